using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Identity;
using Tollgate.Infrastructure;
using Tollgate.Observability;
using Tollgate.Server.Admission;

namespace Tollgate.Admission;

/// <summary>
/// Failed authentications are counted per source address (Tollgate:AuthThrottle, here 3 a minute): past the limit they
/// are 429 <c>auth_throttled</c> with Retry-After to the window's end, on every surface and the Admin API, while a valid
/// key from the same address is still served; a request with no credential is not counted; the count is a metric.
/// </summary>
public sealed class AuthThrottleTests : IAsyncLifetime
{
    private const string Model = "velma-2-batch";
    private const string Streaming = "velma-2-stt-streaming";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 15, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync(new Dictionary<string, string?>
    {
        ["Tollgate:AuthThrottle:Limit"] = "3",
        ["Tollgate:AuthThrottle:Window"] = "1m",
    }, s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<HttpResponseMessage> ListPresetsAsync(string? key)
    {
        using var client = _server.CreateClient(key);
        var response = await client.GetAsync($"api/{Model}/list-presets");
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<JsonObject> BodyAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    [Fact]
    public async Task PastTheLimit_FailuresAre429WithRetryAfter_EverywhereButAValidKeyIsServed_UntilTheWindowEnds()
    {
        var valid = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Model] = (2, 1), [Streaming] = (2, 1) });
        var unknown = ApiKeys.Generate();
        var factory = _server.Services.GetRequiredService<IMeterFactory>();
        var failures = new ConcurrentQueue<Dictionary<string, string?>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "tollgate.auth.failures" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => failures.Enqueue(tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString())));
        listener.Start();

        // Three failures of any kind are answered as always.
        foreach (var key in new[] { unknown, "tgk_not-a-key", unknown })
        {
            using var refused = await ListPresetsAsync(key);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // The fourth, and every failure after it this minute, is throttled: in shape, with the seconds to the window's end.
        using (var throttled = await ListPresetsAsync(unknown))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(45), throttled.Headers.RetryAfter!.Delta);
            var body = await BodyAsync(throttled);
            Assert.Equal("auth_throttled", body["code"]!.GetValue<string>());
            Assert.Contains("3 per 1m", body["detail"]!.GetValue<string>());
        }
        using (var dubbing = _server.CreateClient())
        {
            dubbing.DefaultRequestHeaders.Add("Authorization", "Api-Key " + unknown);
            using var throttled = await dubbing.GetAsync("v1/me");
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.Equal("auth_throttled", (await BodyAsync(throttled))["code"]!.GetValue<string>());
        }
        using (var admin = _server.CreateAdminClient("wrong-admin-token-0123456789"))
        using (var throttled = await admin.GetAsync("admin/orgs"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.NotNull(throttled.Headers.RetryAfter);
            Assert.Equal("auth_throttled", (await BodyAsync(throttled))["code"]!.GetValue<string>());
        }
        await using (var stream = await WebSocketSession.ConnectAsync(_server.WebSocketUri($"/api/{Streaming}?api_key={unknown}&audio_format=s16le&sample_rate=16000&num_channels=1")))
        {
            var received = await stream.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(4029, received.CloseCode);
            Assert.Equal("auth_throttled", received.Messages.Single()["code"]!.GetValue<string>());
        }

        // A valid key from the same address is never refused for it, nor is the right admin token.
        using (var ok = await ListPresetsAsync(valid.Secret))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var admin = _server.CreateAdminClient())
        using (var ok = await admin.GetAsync("admin/orgs"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // The next window starts from nothing.
        _time.Advance(TimeSpan.FromSeconds(45));
        using (var again = await ListPresetsAsync(unknown))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        }

        var counted = failures.ToList();
        Assert.Equal(4, counted.Count(t => t["tollgate.outcome"] == "refused"));
        Assert.Equal(4, counted.Count(t => t["tollgate.outcome"] == "throttled"));
        Assert.Contains(counted, t => t["tollgate.surface"] == "Admin" && t["tollgate.code"] == "invalid_admin_token");
        Assert.Contains(counted, t => t["tollgate.surface"] == "Dubbing" && t["tollgate.outcome"] == "throttled");
        Assert.Contains(counted, t => t["tollgate.code"] == "malformed_api_key");
        Assert.DoesNotContain(counted, t => t.Values.Any(v => v?.Contains("127.0.0.1", StringComparison.Ordinal) == true || v?.Contains("tgk_", StringComparison.Ordinal) == true));
    }

    [Fact]
    public async Task RequestsWithoutACredential_AreNotCounted()
    {
        for (var i = 0; i < 6; i++)
        {
            using var missing = await ListPresetsAsync(null);
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal("missing_api_key", (await BodyAsync(missing))["code"]!.GetValue<string>());
            using var admin = _server.CreateAdminClient(token: null);
            using var noToken = await admin.GetAsync("admin/orgs");
            Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        }
        using var first = await ListPresetsAsync(ApiKeys.Generate());
        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
    }

    [Theory]
    [InlineData("203.0.113.7", "auth:203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "auth:203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "auth:2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "auth:2001:db8:1:2::/64")]
    public void Addresses_AreCountedByHost_AndIPv6ByItsSlash64(string address, string partition) =>
        Assert.Equal(partition, AuthFailureThrottle.Partition(IPAddress.Parse(address)));
}
