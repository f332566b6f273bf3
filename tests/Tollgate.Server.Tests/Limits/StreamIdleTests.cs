using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;

namespace Tollgate.Limits;

/// <summary>
/// A stream that sends no audio for Tollgate:Streams:IdleTimeout (default 30 s) is told why (<c>idle_timeout</c>) and
/// closed 1008, its slot free and its audio charged; one that keeps sending stays open. Time is a fake clock.
/// </summary>
public sealed class StreamIdleTests : IAsyncLifetime
{
    private const string Model = "velma-2-stt-streaming";
    private const string Raw16k = "audio_format=s16le&sample_rate=16000&num_channels=1";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 0, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Moves the clock in steps well inside the lease TTL, so lease renewals run as they would.</summary>
    private void Advance(TimeSpan by)
    {
        for (var left = by; left > TimeSpan.Zero; left -= TimeSpan.FromSeconds(5))
        {
            _time.Advance(left < TimeSpan.FromSeconds(5) ? left : TimeSpan.FromSeconds(5));
        }
    }

    private static async Task WaitForReservedAsync(TollgateServer server, string orgId, long expectedMs)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        long seen;
        while ((seen = (await Usage.ForModelAsync(server, orgId, Model))["reserved_ms"]!.GetValue<long>()) != expectedMs)
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"reserved_ms stayed {seen}, expected {expectedMs}");
            }
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task SilentStream_IsClosed1008WithIdleTimeout_ItsSlotFree()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 1);
        await using var session = await WebSocketSession.ConnectAsync(_server.WebSocketUri($"/api/{Model}?api_key={key.Secret}&{Raw16k}"));
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Model, 1);

        Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(1, (await Usage.ForModelAsync(_server, key.OrgId, Model))["in_flight"]!.GetValue<int>());
        Advance(TimeSpan.FromSeconds(5));

        var received = await session.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1008, received.CloseCode);
        var error = Assert.Single(received.Messages);
        Assert.Equal("error", error["type"]!.GetValue<string>());
        Assert.Equal("idle_timeout", error["code"]!.GetValue<string>());
        Assert.Contains("No audio arrived for 30 s", error["error"]!.GetValue<string>());
        // Settled before the close frame left: the slot is free the moment the client sees the close.
        Assert.Equal(0, (await Usage.ForModelAsync(_server, key.OrgId, Model))["in_flight"]!.GetValue<int>());
    }

    [Fact]
    public async Task StreamThatFallsSilentMidway_IsClosed_AndChargedWhatItSent()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 1);
        await using var session = await WebSocketSession.ConnectAsync(_server.WebSocketUri($"/api/{Model}?api_key={key.Secret}&{Raw16k}"));
        await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 0.75, (0.1, 0.6))));
        await WaitForReservedAsync(_server, key.OrgId, 750);

        Advance(TimeSpan.FromSeconds(30));
        var received = await session.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1008, received.CloseCode);
        Assert.Equal("idle_timeout", received.Messages.Last()["code"]!.GetValue<string>());
        var usage = await Usage.ForModelAsync(_server, key.OrgId, Model);
        Assert.Equal(750, usage["used_ms"]!.GetValue<long>());
        Assert.Equal(0, usage["reserved_ms"]!.GetValue<long>());
        Assert.Equal(0, usage["in_flight"]!.GetValue<int>());
    }

    [Fact]
    public async Task StreamThatKeepsSendingAudio_StaysOpenPastTheIdleTimeout()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 1);
        await using var session = await WebSocketSession.ConnectAsync(_server.WebSocketUri($"/api/{Model}?api_key={key.Secret}&{Raw16k}"));
        var second = TestAudio.S16Le(TestAudio.Samples(16_000, 1.0, (0.2, 0.8)));
        for (var i = 1; i <= 3; i++)
        {
            await session.SendAudioAsync(second);
            await WaitForReservedAsync(_server, key.OrgId, i * 1_000);
            Advance(TimeSpan.FromSeconds(20));
        }
        // 60 s since it connected, never 30 s without audio: still open, and it ends normally.
        Assert.Equal(1, (await Usage.ForModelAsync(_server, key.OrgId, Model))["in_flight"]!.GetValue<int>());
        await session.SendTextAsync("");
        var received = await session.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1000, received.CloseCode);
        Assert.Equal("done", received.Messages.Last()["type"]!.GetValue<string>());
        Assert.Equal(3_000, received.Messages.Last()["duration_ms"]!.GetValue<long>());
    }
}
