using Microsoft.Extensions.Time.Testing;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Behavior;
using Tollgate.Client.Models;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary>
/// The SDK against an unsafe request window of 50 a minute on the real server, both on one fake clock: the client paces
/// itself into the next window instead of spending 429s. The clock moves only while no request is on the wire, a second
/// at a time, so the windows pass in a moment of real time.
/// </summary>
public sealed class SdkPacingTests
{
    private const string Model = "velma-2-stt-batch";
    private static readonly DateTimeOffset Start = new(2026, 3, 10, 9, 0, 20, TimeSpan.Zero);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Backlog_AgainstAnUnsafeWindowOf50PerMinute_PacedRunMeetsNo429(bool pace)
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:RateLimits:Surfaces:Models"] = "unsafe-minute",
            ["Tollgate:RateLimits:Rules:unsafe-minute:Limit"] = "50",
        }, time);
        using var admin = new TollgateAdminClient(server.BaseAddress, InProcessServer.AdminToken);
        var org = await admin.CreateOrganizationAsync("pacing");
        var user = await admin.CreateUserAsync(org.Id, "erin");
        var key = await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, ModelLimits> { [Model] = new(5, 10) });
        var options = new TollgateClientOptions
        {
            BaseAddress = server.BaseAddress,
            ApiKey = key.Key,
            MaxConcurrency = 5,
            PaceRateWindows = pace,
            Retry = new TollgateRetryOptions { MaxRetryAttempts = 10, MaxDelay = TimeSpan.FromSeconds(60) },
        };
        var behavior = new TollgateClientBehavior(options, time);
        using var client = new TollgateModelsClient(options, behavior, new SocketsHttpHandler());
        var audio = TestAudio.Wav(0.25);
        var files = 120;

        var run = Parallel.ForEachAsync(Enumerable.Range(0, files), new ParallelOptions { MaxDegreeOfParallelism = 5 }, async (i, ct) =>
        {
            using var answer = await client.PostBatchAsync(Model, new MemoryStream(audio), $"f{i}.wav", cancellationToken: ct);
        });
        var requestsAtLastLook = -1L;
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(15));
            // Move the clock only when nothing is on the wire (every worker is waiting), so no request sees time jump.
            var onTheWire = behavior.Pacers.Unsafe.Snapshot().InFlight;
            var requests = behavior.Statistics.Requests;
            if (!run.IsCompleted && (pace ? onTheWire == 0 : requests == requestsAtLastLook))
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }
            requestsAtLastLook = requests;
        }
        await run;

        var stats = behavior.Statistics;
        if (pace)
        {
            Assert.Equal(0, stats.RateLimited);
            Assert.Equal(files, stats.Requests);
            Assert.True(stats.RateWindowWait >= TimeSpan.FromSeconds(40), $"waited {stats.RateWindowWait} for the windows to reset");
        }
        else
        {
            Assert.True(stats.RateLimited >= 5, $"the unpaced run met {stats.RateLimited} 429s");
        }
        // Three windows at least: 120 requests at 50 a minute.
        Assert.True(time.GetUtcNow() - Start >= TimeSpan.FromSeconds(100));
    }
}
