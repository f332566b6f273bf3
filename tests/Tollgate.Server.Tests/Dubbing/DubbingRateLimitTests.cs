using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;

namespace Tollgate.Dubbing;

/// <summary>
/// The rate windows on the Dubbing API (which carries the four default rules), in the seed's three scenarios: bulk dub
/// creation, status polling and voice discovery. Limits are configured small, as a user would, and the clock is fake.
/// </summary>
public sealed class DubbingRateLimitTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 10, 9, 0, 20, TimeSpan.Zero);
    private static readonly long MinuteEnd = Start.AddSeconds(40).ToUnixTimeSeconds();
    private static readonly long HourEnd = new DateTimeOffset(2026, 3, 10, 10, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private readonly FakeTimeProvider _time = new(Start);
    private TollgateServer? _server;
    private TestKey _key = null!;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task<DubbingClient> StartAsync(int global, int safe, int unsafeMinute, int unsafeHour)
    {
        _server = await TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:RateLimits:Rules:global:Limit"] = global.ToString(),
            ["Tollgate:RateLimits:Rules:safe:Limit"] = safe.ToString(),
            ["Tollgate:RateLimits:Rules:unsafe-minute:Limit"] = unsafeMinute.ToString(),
            ["Tollgate:RateLimits:Rules:unsafe-hour:Limit"] = unsafeHour.ToString(),
        }, s => s.AddSingleton<TimeProvider>(_time));
        _key = await _server.CreateKeyAsync("velma-2-batch");
        return new DubbingClient(_server, _key.Secret);
    }

    private static (long Limit, long Remaining, long Reset) Headers(HttpResponseMessage response) =>
        (long.Parse(response.Headers.GetValues("X-RateLimit-Limit").Single()),
         long.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single()),
         long.Parse(response.Headers.GetValues("X-RateLimit-Reset").Single()));

    private static async Task<(HttpResponseMessage Response, JsonNode Body)> SendAsync(DubbingClient client, HttpMethod method, string path, HttpContent? content = null)
    {
        var response = await client.Http.SendAsync(new HttpRequestMessage(method, path) { Content = content });
        return (response, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    /// <summary>Waits for a dub's status without spending the rate windows: the server's store is read directly.</summary>
    private async Task WaitForStatusAsync(string dubId, DubStatus status)
    {
        var store = _server!.Services.GetRequiredService<IDubbingStore>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await store.GetDubAsync(dubId, _key.UserId, timeout.Token))!.Status != status)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    [Fact]
    public async Task BulkDubCreation_CountsCreatePreprocessAndGenerate_AgainstTheUnsafeMinute()
    {
        using var client = await StartAsync(global: 1000, safe: 1000, unsafeMinute: 9, unsafeHour: 20);
        var remaining = 9L;
        for (var dub = 0; dub < 3; dub++)
        {
            var (created, body) = await SendAsync(client, HttpMethod.Post, "v1/me/dubs", DubbingClient.Upload(TestAudio.SpeechLikeWav()));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal((9L, --remaining, MinuteEnd), Headers(created));
            var id = body["dubId"]!.GetValue<string>();

            var (preprocess, _) = await SendAsync(client, HttpMethod.Post, $"v1/me/dubs/{id}/preprocess");
            Assert.Equal(HttpStatusCode.Accepted, preprocess.StatusCode);
            Assert.Equal((9L, --remaining, MinuteEnd), Headers(preprocess));
            await WaitForStatusAsync(id, DubStatus.Preprocessed);

            var (generate, _) = await SendAsync(client, HttpMethod.Post, $"v1/me/dubs/{id}/generate");
            Assert.Equal(HttpStatusCode.Accepted, generate.StatusCode);
            Assert.Equal((9L, --remaining, MinuteEnd), Headers(generate));
        }

        // The tenth unsafe call this minute: refused by unsafe-minute, until the minute ends 40 s later.
        var (refused, error) = await SendAsync(client, HttpMethod.Post, "v1/me/dubs", DubbingClient.Upload(TestAudio.SpeechLikeWav()));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(40), refused.Headers.RetryAfter!.Delta);
        Assert.Equal((9L, 0L, MinuteEnd), Headers(refused));
        Assert.Equal("rate_limited", error["code"]!.GetValue<string>());
        Assert.Contains("'unsafe-minute'", error["detail"]!.GetValue<string>());

        // A GET is still admitted: unsafe rules do not apply to it.
        var (get, _) = await SendAsync(client, HttpMethod.Get, "v1/me");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);

        // Next minute: the minute starts afresh (8 left after this call) while the hour has 20 - 10 = 10 left.
        _time.Advance(TimeSpan.FromSeconds(40));
        var (next, _) = await SendAsync(client, HttpMethod.Post, "v1/me/voices", JsonContent(new { name = "v", language = "en" }));
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        Assert.Equal((9L, 8L, MinuteEnd + 60), Headers(next));
        for (var i = 0; i < 3; i++)
        {
            (await SendAsync(client, HttpMethod.Post, "v1/me/voices", JsonContent(new { name = "v", language = "en" }))).Response.Dispose();
        }
        // A minute later the hour is the tighter rule: 20 - 14 = 6 left in the hour, 8 in the new minute.
        _time.Advance(TimeSpan.FromMinutes(1));
        var (hourly, _) = await SendAsync(client, HttpMethod.Post, "v1/me/voices", JsonContent(new { name = "v", language = "en" }));
        Assert.Equal((20L, 6L, HourEnd), Headers(hourly));
    }

    [Fact]
    public async Task StatusPolling_CountsAgainstSafe_AndTheHeadersSaySo()
    {
        using var client = await StartAsync(global: 1000, safe: 5, unsafeMinute: 100, unsafeHour: 1000);
        var id = await client.CreateDubAsync(TestAudio.SpeechLikeWav());
        for (var poll = 0; poll < 5; poll++)
        {
            var (status, _) = await SendAsync(client, HttpMethod.Get, $"v1/me/dubs/{id}");
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Equal((5L, 4L - poll, MinuteEnd), Headers(status));
        }
        var (refused, error) = await SendAsync(client, HttpMethod.Get, $"v1/me/dubs/{id}");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("'safe'", error["detail"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(40), refused.Headers.RetryAfter!.Delta);

        // An unsafe call is still admitted (safe does not apply to it) and its headers name its own tightest rule.
        var (preprocess, _) = await SendAsync(client, HttpMethod.Post, $"v1/me/dubs/{id}/preprocess");
        Assert.Equal(HttpStatusCode.Accepted, preprocess.StatusCode);
        Assert.Equal((100L, 98L, MinuteEnd), Headers(preprocess));
    }

    [Fact]
    public async Task VoiceDiscovery_CountsAgainstSafe_AndPagingSpendsOneRequestPerPage()
    {
        using var client = await StartAsync(global: 1000, safe: 4, unsafeMinute: 100, unsafeHour: 1000);
        string? cursor = null;
        var pages = 0;
        do
        {
            var (page, body) = await SendAsync(client, HttpMethod.Get, "v1/voices?limit=5" + (cursor is null ? "" : "&cursor=" + cursor));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            pages++;
            Assert.Equal((4L, 4L - pages, MinuteEnd), Headers(page));
            cursor = body["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        Assert.Equal(4, pages); // 16 stock voices, 5 a page
        var (refused, _) = await SendAsync(client, HttpMethod.Get, "v1/voices?languages=fr");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal((4L, 0L, MinuteEnd), Headers(refused));

        // A filtered query is one request: after the minute, one call finds the French voices.
        _time.Advance(TimeSpan.FromSeconds(40));
        var (french, voices) = await SendAsync(client, HttpMethod.Get, "v1/voices?languages=fr");
        Assert.Equal(HttpStatusCode.OK, french.StatusCode);
        Assert.Equal(2, voices["voices"]!.AsArray().Count);
        Assert.Equal((4L, 3L, MinuteEnd + 60), Headers(french));
    }

    [Fact]
    public async Task TwoKeysOfOneUser_ShareTheWindows_AnotherUserDoesNot()
    {
        using var _ = await StartAsync(global: 1000, safe: 2, unsafeMinute: 100, unsafeHour: 1000);
        var owner = _key;
        var sameUser = await _server!.CreateKeyAsync(new Dictionary<string, (int, double)> { ["velma-2-batch"] = (1, 1) }, owner.OrgId, owner.UserId);
        var otherUser = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { ["velma-2-batch"] = (1, 1) }, owner.OrgId);
        using var a = new DubbingClient(_server, owner.Secret);
        using var b = new DubbingClient(_server, sameUser.Secret);
        using var c = new DubbingClient(_server, otherUser.Secret);
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("v1/me")).Status);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("v1/me")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await a.GetAsync("v1/me")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await b.GetAsync("v1/me")).Status);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("v1/me")).Status);
    }

    private static HttpContent JsonContent(object body) => System.Net.Http.Json.JsonContent.Create(body);
}
