using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Platform;

/// <summary>The Platform surface under the shared limits: rate windows by configuration, and the realtime stream's concurrency lease.</summary>
public sealed class PlatformLimitsTests : IAsyncLifetime
{
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync(new Dictionary<string, string?>
    {
        ["Tollgate:RateLimits:Rules:platform-posts:Limit"] = "2",
        ["Tollgate:RateLimits:Rules:platform-posts:Window"] = "1h",
        ["Tollgate:RateLimits:Rules:platform-posts:AppliesTo"] = "Unsafe",
        ["Tollgate:RateLimits:Surfaces:Platform"] = "platform-posts",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RateRulesConfiguredForThePlatformSurface_ApplyToItsPosts_NotItsStatusReads()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        var (status, first) = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav()));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav()))).Status);

        using var content = new StringContent(PlatformClient.Body(TestAudio.SpeechLikeWav()).ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var refused = await client.Http.PostAsync("api_service", content);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter is not null);
        Assert.Equal("0", refused.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal("rate_limited", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["code"]!.GetValue<string>());

        var done = await client.WaitForAsync(first["job_id"]!.GetValue<string>(), "completed");
        Assert.Equal("completed", done["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ARealtimeStream_HoldsAConcurrencyLease_OnTheStreamingModel()
    {
        var key = await _server.CreateKeyAsync("velma-2-stt-streaming", concurrency: 1);
        using var client = new PlatformClient(_server, key);
        async Task<Uri> OpenAsync()
        {
            var (_, body) = await client.PostJsonAsync(new JsonObject { ["submission_type"] = "realtime_websocket" });
            return new Uri(body["realtime_url"]!.GetValue<string>() + "&audio_format=s16le&sample_rate=16000&num_channels=1");
        }
        var first = await OpenAsync();
        var second = await OpenAsync();
        await using var open = await WebSocketSession.ConnectAsync(first);
        await open.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 0.5)));
        await using (var refused = await WebSocketSession.ConnectAsync(second))
        {
            var received = await refused.ReadUntilClosedAsync();
            Assert.Equal(4029, received.CloseCode);
            Assert.Equal("concurrency_limit", received.Messages.Single()["code"]!.GetValue<string>());
        }
        await open.SendTextAsync("");
        Assert.Equal(1000, (await open.ReadUntilClosedAsync()).CloseCode);
        // Refused for concurrency before its token was spent: the same URL works once the slot is free.
        await using var retried = await WebSocketSession.ConnectAsync(second);
        await retried.SendTextAsync("");
        Assert.Equal(1000, (await retried.ReadUntilClosedAsync()).CloseCode);
    }
}
