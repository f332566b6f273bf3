using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;

namespace Tollgate.Limits;

/// <summary>
/// Tiered fixed windows per user on a real server (DESIGN 3.4), with small limits configured the way a user would
/// (Tollgate:RateLimits) on the Models surface: GET list-presets is a safe request, POST to a batch endpoint an unsafe one.
/// </summary>
public sealed class RateWindowTests : IAsyncLifetime
{
    private const string Batch = "velma-2-batch";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 45, TimeSpan.Zero));
    private TollgateServer _server = null!;

    private static Dictionary<string, string?> Rules(int global = 10, int safe = 3, int unsafeMinute = 5, int unsafeHour = 8) => new()
    {
        ["Tollgate:RateLimits:Rules:global:Limit"] = global.ToString(),
        ["Tollgate:RateLimits:Rules:safe:Limit"] = safe.ToString(),
        ["Tollgate:RateLimits:Rules:unsafe-minute:Limit"] = unsafeMinute.ToString(),
        ["Tollgate:RateLimits:Rules:unsafe-hour:Limit"] = unsafeHour.ToString(),
        ["Tollgate:RateLimits:Surfaces:Models"] = "global,safe,unsafe-minute,unsafe-hour",
    };

    public async Task InitializeAsync() =>
        _server = await TollgateServer.StartAsync(Rules(), s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Task<HttpResponseMessage> GetAsync(HttpClient client) => client.GetAsync($"api/{Batch}/list-presets");

    private static Task<HttpResponseMessage> PostAsync(HttpClient client) => client.PostAsync($"api/{Batch}", new MultipartFormDataContent());

    private static (long Limit, long Remaining, long Reset) Headers(HttpResponseMessage response) =>
        (long.Parse(response.Headers.GetValues("X-RateLimit-Limit").Single()),
         long.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single()),
         long.Parse(response.Headers.GetValues("X-RateLimit-Reset").Single()));

    private static readonly long MinuteEnd = new DateTimeOffset(2026, 5, 4, 12, 1, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private static readonly long HourEnd = new DateTimeOffset(2026, 5, 4, 13, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    [Fact]
    public async Task TheRequestOverTheLimit_Is429_WithRetryAfterToTheWindowsEnd_AndANewWindowAdmitsAgain()
    {
        var key = await _server.CreateKeyAsync(Batch);
        using var client = _server.CreateClient(key.Secret);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await GetAsync(client);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal((3L, 2L - i, MinuteEnd), Headers(ok));
        }
        using (var refused = await GetAsync(client))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(15), refused.Headers.RetryAfter!.Delta);
            Assert.Equal((3L, 0L, MinuteEnd), Headers(refused));
            var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Equal("rate_limited", body["code"]!.GetValue<string>());
            Assert.Contains("'safe'", body["detail"]!.GetValue<string>());
        }

        _time.Advance(TimeSpan.FromSeconds(15)); // 12:01:00, a new minute
        using var again = await GetAsync(client);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((3L, 2L, MinuteEnd + 60), Headers(again));
    }

    [Fact]
    public async Task AllKeysOfAUser_ShareOnePool_AnotherUserHasItsOwn()
    {
        var first = await _server.CreateKeyAsync(Batch);
        var second = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (5, 10) }, first.OrgId, first.UserId);
        var colleague = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (5, 10) }, first.OrgId);
        using var a = _server.CreateClient(first.Secret);
        using var b = _server.CreateClient(second.Secret);
        using var c = _server.CreateClient(colleague.Secret);
        (await GetAsync(a)).Dispose();
        (await GetAsync(b)).Dispose();
        (await GetAsync(a)).Dispose();
        using (var refused = await GetAsync(b))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }
        using var other = await GetAsync(c);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(2, Headers(other).Remaining);
    }

    [Fact]
    public async Task SafeRequests_CountTowardGlobalAndSafe_NotUnsafe_AndHeadersNameTheMostRestrictiveRule()
    {
        var key = await _server.CreateKeyAsync(Batch);
        using var client = _server.CreateClient(key.Secret);
        for (var i = 0; i < 3; i++)
        {
            (await GetAsync(client)).Dispose();
        }
        // unsafe-minute 5 left, unsafe-hour 8, global 7: unsafe-minute is the most restrictive (4 after this one).
        using (var post = await PostAsync(client))
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, post.StatusCode);
            Assert.Equal((5L, 4L, MinuteEnd), Headers(post));
        }
        for (var i = 0; i < 4; i++)
        {
            (await PostAsync(client)).Dispose();
        }
        // global: 3 + 5 = 8 used, 2 left; unsafe-minute: 0 left → refused by unsafe-minute.
        using (var refused = await PostAsync(client))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Contains("'unsafe-minute'", await refused.Content.ReadAsStringAsync());
        }
        // A rejected request consumes nothing: global still has 2.
        _time.Advance(TimeSpan.FromSeconds(15));
        using var next = await PostAsync(client);
        // New minute: unsafe-minute 4 left, global 9, unsafe-hour 8 - 5 - 1 = 2 left → unsafe-hour is the most restrictive.
        Assert.Equal((8L, 2L, HourEnd), Headers(next));
    }

    [Fact]
    public async Task SixtyFourParallelClients_AdmittedExactlyTheLimit()
    {
        await using var server = await TollgateServer.StartAsync(Rules(global: 1000, safe: 1000, unsafeMinute: 20, unsafeHour: 1000), s => s.AddSingleton<TimeProvider>(_time));
        var key = await server.CreateKeyAsync(Batch, concurrency: 100);
        using var client = server.CreateClient(key.Secret);
        var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => PostAsync(client)));
        Assert.Equal(20, responses.Count(r => r.StatusCode != HttpStatusCode.TooManyRequests));
        Assert.Equal(44, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task InvalidRuleConfiguration_StopsTheServerAtStartup_NamingTheSetting()
    {
        var bad = Rules();
        bad["Tollgate:RateLimits:Rules:unsafe-minute:Limit"] = "lots";
        bad["Tollgate:RateLimits:Rules:per-second:Window"] = "1s";
        var error = await Assert.ThrowsAsync<Tollgate.Server.Hosting.ConfigurationException>(() => TollgateServer.StartAsync(bad));
        Assert.Contains("Tollgate:RateLimits:Rules:unsafe-minute", error.Message);
        Assert.Contains("Tollgate:RateLimits:Rules:per-second", error.Message);
    }

    [Fact]
    public async Task AnAddedPerSecondRule_IsEnforced_WithoutCodeChanges()
    {
        var settings = Rules(global: 100, safe: 100);
        settings["Tollgate:RateLimits:Rules:per-second:Limit"] = "2";
        settings["Tollgate:RateLimits:Rules:per-second:Window"] = "1s";
        settings["Tollgate:RateLimits:Surfaces:Models"] = "global,safe,per-second";
        await using var server = await TollgateServer.StartAsync(settings, s => s.AddSingleton<TimeProvider>(_time));
        var key = await server.CreateKeyAsync(Batch);
        using var client = server.CreateClient(key.Secret);
        (await GetAsync(client)).Dispose();
        (await GetAsync(client)).Dispose();
        using var refused = await GetAsync(client);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
        Assert.Equal(2, Headers(refused).Limit);
    }
}
