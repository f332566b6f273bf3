using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Distributed;

/// <summary>
/// Redis going away under load, with the real server processes: FailureMode=Closed answers 503 store_unavailable and
/// leaks nothing across a restart that loses every key; FailureMode=Open admits under the node's own limiter; both
/// recover by themselves when Redis answers again.
/// </summary>
public sealed class RedisOutageTests
{
    private const string Batch = "velma-2-stt-batch";

    private static HttpContent Upload(byte[] file) => new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "audio.wav" } };

    [Fact]
    public async Task RedisRestartedUnderLoad_Closed_Answers503InShape_LeaksNoSlot_AndRecoversByItself()
    {
        await using var redis = await OwnRedis.StartAsync();
        await using var cluster = await DistributedNodes.StartAsync(2, new Dictionary<string, (int, double)> { [Batch] = (3, 10) },
            new Dictionary<string, string> { ["Tollgate__Leases__Ttl"] = "3s" }, redis.Address);
        var file = TestAudio.SpeechLikeWav();
        var clients = Enumerable.Range(0, 2).Select(node => cluster.Client(node, cluster.Key.Secret)).ToArray();
        foreach (var warm in clients)
        {
            Assert.Equal(HttpStatusCode.OK, (await warm.PostAsync($"api/{Batch}", Upload(file))).StatusCode);
        }
        var statuses = new ConcurrentBag<(HttpStatusCode Status, string? Code, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await clients[c % 2].PostAsync($"api/{Batch}", Upload(file));
                var code = response.StatusCode == HttpStatusCode.OK ? null
                    : (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>();
                statuses.Add((response.StatusCode, code, clock.Elapsed));
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(3));
        var killedAt = clock.Elapsed;
        await redis.RestartAsync(down: TimeSpan.FromSeconds(1)); // SIGKILL: every lease, window and reservation is gone
        var restartedAt = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3));
        stop.Cancel();
        await Task.WhenAll(load);

        var seen = string.Join("; ", statuses.OrderBy(s => s.At).GroupBy(s => ((int)s.At.TotalSeconds, s.Status, s.Code)).Select(g => $"{g.Key} ×{g.Count()}"));
        Assert.True(statuses.Any(s => s.Status == HttpStatusCode.OK && s.At < killedAt), seen);
        Assert.True(statuses.Any(s => s.Status == HttpStatusCode.ServiceUnavailable && s.Code == "store_unavailable"), $"killed {killedAt}, restarted {restartedAt}: {seen}");
        Assert.All(statuses, s => Assert.True(s.Status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable,
            $"{s.Status} {s.Code}"));
        Assert.All(statuses.Where(s => s.Status == HttpStatusCode.ServiceUnavailable), s => Assert.Equal("store_unavailable", s.Code));
        // Recovered by itself: both nodes serve again once Redis answers.
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.OK && s.At > restartedAt + TimeSpan.FromSeconds(1));

        // Nothing leaked: within a TTL every slot is free again, and exactly the limit can be held at once.
        await cluster.WaitForInFlightAsync(0, Batch, 0, TimeSpan.FromSeconds(5));
        var gate = new GatedUpload();
        var held = Enumerable.Range(0, 3).Select(i => clients[i % 2].SendAsync(gate.Request(Batch, file))).ToList();
        await cluster.WaitForInFlightAsync(1, Batch, 3, TimeSpan.FromSeconds(20));
        using (var fourth = await clients[1].SendAsync(new GatedUpload().Request(Batch, file)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        }
        gate.Open();
        Assert.All(await Task.WhenAll(held), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(0, await cluster.InFlightAsync(0, Batch));
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task RedisDown_Open_AdmitsUnderTheNodesOwnLimiter_Logged_ThenBackOnRedis()
    {
        await using var redis = await OwnRedis.StartAsync();
        await using var cluster = await DistributedNodes.StartAsync(1, new Dictionary<string, (int, double)> { [Batch] = (1, 10) },
            new Dictionary<string, string> { ["Tollgate__Redis__FailureMode"] = "Open" }, redis.Address);
        var file = TestAudio.SpeechLikeWav();
        using var client = cluster.Client(0, cluster.Key.Secret);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"api/{Batch}", Upload(file))).StatusCode);

        redis.Kill();
        using (var admitted = await client.PostAsync($"api/{Batch}", Upload(file)))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }
        // Still limited, by this node alone: one upload in flight, the next refused.
        var gate = new GatedUpload();
        var holding = client.SendAsync(gate.Request(Batch, file));
        await gate.BodyStarted.WaitAsync(TimeSpan.FromSeconds(20));
        using (var refused = await client.SendAsync(new GatedUpload().Request(Batch, file)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }
        gate.Open();
        Assert.Equal(HttpStatusCode.OK, (await holding).StatusCode);
        await cluster.Nodes[0].WaitForOutputAsync("FailureMode=Open", TimeSpan.FromSeconds(5));

        await redis.RestartAsync(TimeSpan.Zero);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        // Back on Redis: an upload held through the node shows in Redis's count.
        var again = new GatedUpload();
        var onRedis = client.SendAsync(again.Request(Batch, file));
        await again.BodyStarted.WaitAsync(TimeSpan.FromSeconds(20));
        while (await RedisLeaseCountAsync(redis) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the node did not go back to Redis");
            again.Open();
            await onRedis;
            again = new GatedUpload();
            onRedis = client.SendAsync(again.Request(Batch, file));
            await again.BodyStarted.WaitAsync(TimeSpan.FromSeconds(20));
        }
        again.Open();
        Assert.Equal(HttpStatusCode.OK, (await onRedis).StatusCode);
    }

    private static async Task<long> RedisLeaseCountAsync(OwnRedis redis)
    {
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Address);
        var server = connection.GetServer(redis.Address);
        long total = 0;
        await foreach (var key in server.KeysAsync(pattern: "*:ls:*"))
        {
            total += await connection.GetDatabase().SortedSetLengthAsync(key);
        }
        return total;
    }

    [Theory]
    [InlineData("Closed", HttpStatusCode.ServiceUnavailable, "unhealthy")]
    [InlineData("Open", HttpStatusCode.OK, "degraded")]
    public async Task Readiness_ReportsRedis_NotReadyWhileItIsDown_AndReadyAgainOnceItIsBack(string mode, HttpStatusCode whileDown, string redisWhileDown)
    {
        await using var redis = await OwnRedis.StartAsync();
        await using var cluster = await DistributedNodes.StartAsync(1, new Dictionary<string, (int, double)> { [Batch] = (3, 10) },
            new Dictionary<string, string> { ["Tollgate__Redis__FailureMode"] = mode }, redis.Address);
        using var client = cluster.Client(0);

        async Task<(HttpStatusCode Status, string Redis, string Postgres)> ReadyAsync()
        {
            using var response = await client.GetAsync("readyz");
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            return (response.StatusCode, body["checks"]!["redis"]!["status"]!.GetValue<string>(), body["checks"]!["postgresql"]!["status"]!.GetValue<string>());
        }

        Assert.Equal((HttpStatusCode.OK, "healthy", "healthy"), await ReadyAsync());
        redis.Kill();
        await Eventually.WaitForAsync(async () => await ReadyAsync() == (whileDown, redisWhileDown, "healthy") ? "" : null);
        await redis.RestartAsync(TimeSpan.Zero);
        await Eventually.WaitForAsync(async () => await ReadyAsync() == (HttpStatusCode.OK, "healthy", "healthy") ? "" : null);
    }
}
