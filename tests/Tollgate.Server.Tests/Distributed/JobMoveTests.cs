using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;
using Tollgate.Jobs;
using Tollgate.Storage.Postgres;
using Tollgate.Storage.Relational.Jobs;
using Xunit.Abstractions;

namespace Tollgate.Distributed;

/// <summary>
/// Work moved between nodes of the real deployment (server processes on one PostgreSQL and one Redis) by a kill -9 of
/// the node running it: a dub and a Platform job are claimed by another node once the dead one's lease runs out,
/// finish there, answer the same through every node, and are charged exactly once (the ledger's rows by request id);
/// a realtime job's open stream belongs to its node, so a starting node leaves a live node's stream alone and only a
/// dead node's is marked <c>stream_interrupted</c>, once its lease has passed.
/// </summary>
[Collection("DubKillResumeTests")] // one long render at a time: two at once on 2 cores starve the 2 s lease's renewals
public sealed class JobMoveTests(ITestOutputHelper output)
{
    private const string Transcription = "velma-2-stt-batch";
    private const string Emotion = "velma-2-emotion-batch";
    private const string Streaming = "velma-2-stt-streaming";

    /// <summary>A short job lease, so the surviving node takes over a dead one's claim within seconds.</summary>
    private static readonly Dictionary<string, string> ShortJobLease = new()
    {
        ["Tollgate__Jobs__LeaseSeconds"] = "2",
        ["Tollgate__Jobs__PollSeconds"] = "0.2",
        ["Tollgate__Leases__Ttl"] = "3s",
    };

    [Fact]
    public async Task ADub_WhoseNodeIsKilledMidRender_IsFinishedByAnotherNode_AnswersAlikeOnEvery_AndIsChargedOnce()
    {
        await using var cluster = await DistributedNodes.StartAsync(2, new Dictionary<string, (int, double)> { ["velma-2-batch"] = (5, 10) },
            ShortJobLease, sharedData: true);
        using var database = new PostgresDatabase(cluster.Database.ConnectionString);
        var jobs = new SqlJobStore(database, TimeProvider.System);
        const int seconds = 20 * 60; // 20 minutes: rendering it takes long enough for the kill to land mid-render
        using var first = DubbingClient(cluster, 0);
        var dubId = await Dubbing.DubKillResumeTests.CreateAndGenerateAsync(first, Dubbing.DubKillResumeTests.LongWav(16_000, seconds));

        var claimed = await Eventually.WaitForAsync(async () => await jobs.GetAsync(dubId + ":generate") is { State: JobState.Running } job ? job : null);
        var doomed = cluster.NodeOfHolder(claimed.ClaimHolder!);
        Assert.True(doomed >= 0, $"no node runs as {claimed.ClaimHolder}");
        var survivor = 1 - doomed;
        cluster.Nodes[doomed].Kill();
        await cluster.Nodes[doomed].WaitForExitAsync();
        var left = await jobs.GetAsync(dubId + ":generate");
        Assert.True(left!.State == JobState.Running && left.ClaimHolder == claimed.ClaimHolder, $"killed before it finished: {left}");
        output.WriteLine($"Killed node {doomed} holding {claimed.ClaimHolder}; node {survivor} is to take it.");

        using var other = DubbingClient(cluster, survivor);
        var done = await Eventually.WaitForAsync(async () =>
        {
            var body = JsonNode.Parse(await other.GetStringAsync($"v1/me/dubs/{dubId}"))!;
            Assert.NotEqual("error", body["status"]!.GetValue<string>());
            return body["status"]!.GetValue<string>() == "done" ? body : null;
        });
        Assert.Equal(seconds, done["apiCreditsUsed"]!.GetValue<int>());

        var finished = await Eventually.WaitForAsync(async () => await jobs.GetAsync(dubId + ":generate") is { State: JobState.Succeeded } job ? job : null);
        // Claimed twice: by the killed node, then (once that claim's lease ran out) by the survivor — never two at once.
        Assert.Equal(2, finished.Attempts);
        // Charged once: one credit entry for the dub, its 20 minutes.
        Assert.Equal(1L, cluster.Database.Scalar($"SELECT COUNT(*) FROM dubbing_credits WHERE dub_id = '{dubId}' AND credits > 0"));
        Assert.Equal((long)seconds, cluster.Database.Scalar($"SELECT COALESCE(SUM(credits), 0) FROM dubbing_credits WHERE dub_id = '{dubId}'"));

        // The killed node comes back: it answers the same as the survivor (its own address aside), the result included.
        await cluster.Nodes[doomed].DisposeAsync();
        cluster.Nodes[doomed] = await cluster.StartNodeAsync(doomed);
        using var restarted = DubbingClient(cluster, doomed);
        Assert.Equal(Normalized(cluster, survivor, await other.GetStringAsync($"v1/me/dubs/{dubId}")),
            Normalized(cluster, doomed, await restarted.GetStringAsync($"v1/me/dubs/{dubId}")));
        using var result = await restarted.GetAsync($"v1/me/dubs/{dubId}/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal(seconds * 1000L, Audio.AudioProbe.Probe(new MemoryStream(await result.Content.ReadAsByteArrayAsync())).Info.DurationMs);
    }

    [Fact]
    public async Task APlatformJob_WhoseNodeIsKilledMidProcessing_IsFinishedByAnotherNode_AnswersAlikeOnEvery_AndEachFileIsChargedOncePerModel()
    {
        const int Files = 6;
        await using var cluster = await DistributedNodes.StartAsync(2,
            new Dictionary<string, (int, double)> { [Transcription] = (5, 10), [Emotion] = (5, 10) }, ShortJobLease, sharedData: true);
        using var database = new PostgresDatabase(cluster.Database.ConnectionString);
        var jobs = new SqlJobStore(database, TimeProvider.System);
        var audio = TestAudio.Wav(TestAudio.Samples(16_000, 150, (1, 60), (70, 149)), 16_000);
        using var submitter = PlatformClient(cluster, 0);
        var jobId = await SubmitAsync(submitter, audio, Files);

        // Killed once the first file's charges are recorded: part-way through its files.
        await Eventually.WaitForAsync(async () =>
            cluster.Database.Scalar($"SELECT COUNT(*) FROM usage_charges WHERE request_id LIKE 'platform:{jobId}:%'") >= 2 ? "" : null);
        var claimed = await jobs.GetAsync("platform:" + jobId);
        Assert.True(claimed is { State: JobState.Running }, $"the job ended before the kill: {claimed}");
        var doomed = cluster.NodeOfHolder(claimed!.ClaimHolder!);
        Assert.True(doomed >= 0, $"no node runs as {claimed.ClaimHolder}");
        var survivor = 1 - doomed;
        cluster.Nodes[doomed].Kill();
        await cluster.Nodes[doomed].WaitForExitAsync();
        var before = cluster.Database.Scalar($"SELECT COUNT(*) FROM usage_charges WHERE request_id LIKE 'platform:{jobId}:%'");
        output.WriteLine($"Killed node {doomed} with {before} charges recorded.");
        Assert.True(before < Files * 2, "every file was charged before the kill");

        using var other = PlatformClient(cluster, survivor);
        var done = await Eventually.WaitForAsync(async () =>
        {
            var body = JsonNode.Parse(await other.GetStringAsync($"api_service/job_status/{jobId}"))!;
            return body["status"]!.GetValue<string>() == "completed" ? body : null;
        });
        Assert.All(done["files"]!.AsArray(), f => Assert.True(f!["status"]!.GetValue<string>() == "completed", f.ToJsonString()));
        Assert.Equal(Files * 2, done["api_calls_charged"]!.GetValue<int>());

        // The engine records its success just after the job's answer is stored.
        var finished = await Eventually.WaitForAsync(async () => await jobs.GetAsync("platform:" + jobId) is { State: JobState.Succeeded } job ? job : null);
        Assert.Equal(2, finished.Attempts); // the killed claim, then the survivor's: never two at once
        // Each file once per model: 12 rows, 12 distinct request ids, 150 s each; none written twice.
        Assert.Equal(Files * 2L, cluster.Database.Scalar($"SELECT COUNT(*) FROM usage_charges WHERE request_id LIKE 'platform:{jobId}:%'"));
        Assert.Equal(Files * 2L, cluster.Database.Scalar($"SELECT COUNT(DISTINCT request_id) FROM usage_charges WHERE request_id LIKE 'platform:{jobId}:%'"));
        Assert.Equal(Files * 2L * 150_000, cluster.Database.Scalar($"SELECT SUM(ms) FROM usage_charges WHERE request_id LIKE 'platform:{jobId}:%'"));

        // Polled through a node that did not run it (the restarted one): the same answer.
        await cluster.Nodes[doomed].DisposeAsync();
        cluster.Nodes[doomed] = await cluster.StartNodeAsync(doomed);
        using var restarted = PlatformClient(cluster, doomed);
        Assert.Equal(await other.GetStringAsync($"api_service/job_status/{jobId}"), await restarted.GetStringAsync($"api_service/job_status/{jobId}"));
    }

    [Fact]
    public async Task ARealtimeStream_IsLeftAloneByAStartingNode_WhileItsNodeLives_AndInterruptedOnceItsNodeIsKilledAndItsLeasePassed()
    {
        await using var cluster = await DistributedNodes.StartAsync(2, new Dictionary<string, (int, double)> { [Streaming] = (5, 10) },
            new Dictionary<string, string> { ["Tollgate__Leases__Ttl"] = "3s", ["Tollgate__Platform__ExpirySweepSeconds"] = "0.5" });
        using var client = PlatformClient(cluster, 0);
        using var opened = await client.PostAsJsonAsync("api_service", new JsonObject { ["submission_type"] = "realtime_websocket", ["flags"] = new JsonObject() });
        var body = JsonNode.Parse(await opened.Content.ReadAsStringAsync())!;
        Assert.True(opened.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        var jobId = body["job_id"]!.GetValue<string>();
        await using var stream = await WebSocketSession.ConnectAsync(new Uri(body["realtime_url"]!.GetValue<string>() + "&audio_format=s16le&sample_rate=16000&num_channels=1"));
        await stream.SendBinaryAsync(new byte[3200]);
        await Eventually.WaitForAsync(async () => await StatusAsync(client, jobId) == "processing" ? "" : null);

        // Node 1 restarts (its start-up sweep runs) and both nodes sweep for several leases: node 0 lives, its stream is left alone.
        cluster.Nodes[1].Kill();
        await cluster.Nodes[1].WaitForExitAsync();
        await cluster.Nodes[1].DisposeAsync();
        cluster.Nodes[1] = await cluster.StartNodeAsync(1);
        using var survivor = PlatformClient(cluster, 1);
        var until = DateTime.UtcNow.AddSeconds(7);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal("processing", await StatusAsync(survivor, jobId));
            await stream.SendBinaryAsync(new byte[3200]); // audio keeps the stream from its idle timeout
            await Task.Delay(500);
        }

        // Node 0 dies with the stream open: once its lease has passed, node 1's sweep marks the job.
        cluster.Nodes[0].Kill();
        await cluster.Nodes[0].WaitForExitAsync();
        var killed = System.Diagnostics.Stopwatch.StartNew();
        var failed = await Eventually.WaitForAsync(async () =>
        {
            var job = JsonNode.Parse(await survivor.GetStringAsync($"api_service/job_status/{jobId}"))!;
            return job["status"]!.GetValue<string>() == "failed" ? job : null;
        });
        output.WriteLine($"Marked after {killed.Elapsed}: {failed.ToJsonString()}");
        Assert.Contains("stream_interrupted", failed.ToJsonString());
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(3 + 1 + 5), $"marked {killed.Elapsed} after the kill, lease 3 s");
    }

    private static async Task<string> StatusAsync(HttpClient client, string jobId) =>
        JsonNode.Parse(await client.GetStringAsync($"api_service/job_status/{jobId}"))!["status"]!.GetValue<string>();

    /// <summary>A node's answer with its own address taken out (a dub's result URL names the node that answered).</summary>
    private static string Normalized(DistributedNodes cluster, int node, string answer) => answer.Replace(cluster.Nodes[node].Address!, "NODE");

    private static HttpClient DubbingClient(DistributedNodes cluster, int node)
    {
        var client = cluster.Client(node);
        client.Timeout = TimeSpan.FromSeconds(120);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Key", cluster.Key.Secret);
        return client;
    }

    private static HttpClient PlatformClient(DistributedNodes cluster, int node)
    {
        var client = cluster.Client(node);
        client.DefaultRequestHeaders.Add("accountuuid", cluster.Key.OrgId);
        client.DefaultRequestHeaders.Add("apikey", cluster.Key.Secret);
        return client;
    }

    private static async Task<string> SubmitAsync(HttpClient client, byte[] audio, int files)
    {
        string? jobId = null;
        for (var i = 0; i < files; i++)
        {
            var body = new JsonObject
            {
                ["audio_base64"] = Convert.ToBase64String(audio),
                ["file_extension"] = "wav",
                ["finalize_job"] = i == files - 1,
            };
            if (jobId is null)
            {
                body["flags"] = new JsonObject { ["emotion_annotation"] = true };
            }
            else
            {
                body["job_id"] = jobId;
            }
            using var response = await client.PostAsJsonAsync("api_service", body);
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True(response.StatusCode == HttpStatusCode.OK, answer.ToJsonString());
            jobId = answer["job_id"]!.GetValue<string>();
        }
        return jobId!;
    }
}
