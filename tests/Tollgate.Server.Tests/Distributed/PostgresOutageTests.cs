using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;
using Xunit.Abstractions;

namespace Tollgate.Distributed;

/// <summary>
/// The shared PostgreSQL database going away under load (every session terminated, new ones refused; the other tests'
/// databases on the server untouched) and coming back: no upload is answered 200 without its charge; one refused at
/// admission, and one admitted from the caches whose charge then cannot be recorded, are both answered 503
/// <c>{"detail","code":"store_unavailable"}</c> (never a cut connection); the nodes recover by themselves, and the
/// ledger holds exactly one charge per upload answered 200, none for any other.
/// </summary>
public sealed class PostgresOutageTests(ITestOutputHelper output)
{
    private const string Batch = "velma-2-stt-batch";

    [Fact]
    public async Task DatabaseGoneUnderLoad_NoAnswerCompletesUncharged_NodesRecoverByThemselves_NothingLostNorChargedTwice()
    {
        await using var cluster = await DistributedNodes.StartAsync(2, new Dictionary<string, (int, double)> { [Batch] = (10, 10) },
            new Dictionary<string, string> { ["Tollgate__Leases__Ttl"] = "3s" });
        var file = TestAudio.SpeechLikeWav(); // 3,000 ms
        var clients = Enumerable.Range(0, 2).Select(node => cluster.Client(node, cluster.Key.Secret)).ToArray();
        foreach (var warm in clients)
        {
            using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "audio.wav" } };
            using var response = await warm.PostAsync($"api/{Batch}", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var outcomes = new ConcurrentBag<(string Outcome, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 6).Select(c => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                string outcome;
                try
                {
                    using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "audio.wav" } };
                    using var response = await clients[c % 2].PostAsync($"api/{Batch}", content);
                    var text = await response.Content.ReadAsStringAsync();
                    outcome = response.StatusCode == HttpStatusCode.OK
                        ? "200"
                        : $"{(int)response.StatusCode} {JsonNode.Parse(text)?["code"]?.GetValue<string>()}";
                }
                catch (HttpRequestException ex)
                {
                    // A cut connection: what the gate did before it held small answers until their charge was recorded.
                    outcome = "aborted: " + ex.Message;
                }
                outcomes.Add((outcome, clock.Elapsed));
            }
        })).ToList();

        var serving = Stopwatch.StartNew();
        while (outcomes.Count(o => o.Outcome == "200") < 6)
        {
            Assert.True(serving.Elapsed < TimeSpan.FromSeconds(30), "the nodes did not serve under load");
            await Task.Delay(50);
        }
        var goneAt = clock.Elapsed;
        cluster.Database.TakeAway();
        await Task.Delay(TimeSpan.FromSeconds(3));
        cluster.Database.BringBack();
        var backAt = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(4));
        stop.Cancel();
        await Task.WhenAll(load);

        var seen = string.Join("; ", outcomes.OrderBy(o => o.At).GroupBy(o => ((int)o.At.TotalSeconds, o.Outcome)).Select(g => $"{g.Key} ×{g.Count()}"));
        output.WriteLine($"gone {goneAt}, back {backAt}: {seen}");
        Assert.Contains(outcomes, o => o.Outcome == "200" && o.At < goneAt);
        Assert.All(outcomes, o => Assert.True(o.Outcome is "200" or "503 store_unavailable", $"{o.Outcome} at {o.At} (gone {goneAt}, back {backAt}): {seen}"));
        Assert.Contains(outcomes, o => o.Outcome == "503 store_unavailable" && o.At > goneAt && o.At < backAt);
        // Recovered by itself, on both nodes: uploads are served again once the database answers.
        Assert.Contains(outcomes, o => o.Outcome == "200" && o.At > backAt + TimeSpan.FromSeconds(1));

        // Nothing lost, nothing charged twice: one ledger row per 200, 3,000 ms each, and every node reports the same.
        var served = outcomes.Count(o => o.Outcome == "200") + clients.Length; // and the warm-up uploads
        Assert.Equal((long)served, cluster.Database.Scalar("SELECT COUNT(*) FROM usage_charges"));
        Assert.Equal(3_000L * served, cluster.Database.Scalar("SELECT COALESCE(SUM(ms), 0) FROM usage_charges"));
        await cluster.WaitForInFlightAsync(0, Batch, 0, TimeSpan.FromSeconds(5));
        for (var node = 0; node < 2; node++)
        {
            var usage = await cluster.UsageAsync(node, Batch);
            Assert.Equal(3_000L * served, usage["used_ms"]!.GetValue<long>());
        }
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}
