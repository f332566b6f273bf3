using System.Text.Json;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Behavior;
using Tollgate.Client.Models;
using Tollgate.Client.Platform;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary>
/// Streams through the concurrency gate, against the real server with its default rate-limit fields: a stream holds a
/// slot for its whole life, so more streams than the key's limit wait instead of being closed with 4029; and the
/// Platform realtime URL streamed to with the SDK's helper.
/// </summary>
public sealed class StreamGateTests(DefaultHeadersServerFixture fixture) : IClassFixture<DefaultHeadersServerFixture>
{
    private const string Streaming = "velma-2-stt-streaming";

    [Fact]
    public async Task SixStreamsAgainstAConcurrencyOf2_EachHoldsASlotForItsLife_NoneIsRefused()
    {
        var key = await CreateKeyAsync(new() { [Streaming] = new(2, 10) });
        using var client = new TollgateStreamingClient(new TollgateClientOptions { BaseAddress = fixture.Server.BaseAddress, ApiKey = key.Key });
        var raw = Pcm(2);
        var peak = 0;

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.StreamAsync(Streaming, new MemoryStream(raw),
            new Dictionary<string, string> { ["audio_format"] = "s16le", ["sample_rate"] = "16000", ["num_channels"] = "1" },
            onMessage: _ =>
            {
                var held = client.Behavior!.InFlight(Streaming);
                int seen;
                while ((seen = Volatile.Read(ref peak)) < held && Interlocked.CompareExchange(ref peak, held, seen) != seen)
                {
                }
                return ValueTask.CompletedTask;
            },
            frameBytes: 3200)));

        Assert.All(results, r => Assert.True(r.Succeeded, $"closed {r.CloseCode}: {r.Error} ({r.ErrorCode})"));
        Assert.Equal((2, ConcurrencyLimitSource.Learned), client.Behavior!.ConcurrencyOf(Streaming));
        Assert.InRange(peak, 1, 2);
        Assert.Equal(0, client.Behavior.InFlight(Streaming));
    }

    [Fact]
    public async Task PlatformRealtime_StreamedWithTheHelper_CompletesTheJob()
    {
        var key = await CreateKeyAsync(new() { ["velma-2-stt-batch"] = new(2, 10), [Streaming] = new(1, 10) });
        var options = new TollgateClientOptions { BaseAddress = fixture.Server.BaseAddress, ApiKey = key.Key, AccountId = key.OrgId };
        using var platform = new TollgatePlatformClient(options);
        var messages = new List<string>();

        var session = await platform.OpenRealtimeAsync();
        var result = await platform.StreamRealtimeAsync(session, new MemoryStream(Pcm(2)), onMessage: m =>
        {
            messages.Add(m.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "");
            return ValueTask.CompletedTask;
        });
        var job = await platform.WaitForJobAsync(session.JobId);

        Assert.True(result.Succeeded, $"closed {result.CloseCode}: {result.Error} ({result.ErrorCode})");
        Assert.Equal(2000, result.DurationMs);
        Assert.Contains("done", messages);
        Assert.Equal("completed", job.Status);
        Assert.Equal(0, platform.Behavior!.InFlight(TollgatePlatformClient.RealtimeModel));
    }

    /// <summary>Raw 16 kHz mono 16-bit PCM: the WAV's samples without its 44-byte header.</summary>
    private static byte[] Pcm(double seconds) => TestAudio.Wav(seconds)[44..];

    private async Task<CreatedApiKey> CreateKeyAsync(Dictionary<string, ModelLimits> models)
    {
        using var admin = new TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("stream gate");
        var user = await admin.CreateUserAsync(org.Id, "sam");
        return await admin.CreateKeyAsync(org.Id, user.Id, models, name: "streams");
    }
}
