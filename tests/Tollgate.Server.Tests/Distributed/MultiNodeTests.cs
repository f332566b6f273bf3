using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Distributed;

/// <summary>
/// Three real server processes on one PostgreSQL database and one Redis (the distributed deployment) behave as one
/// node: windows, leases and quotas exact across them, a node killed with SIGKILL frees its slots within the lease TTL,
/// a key revoked through one node is refused by another within 1 s.
/// </summary>
public sealed class MultiNodeTests
{
    private const string Batch = "velma-2-stt-batch";
    private const string Streaming = "velma-2-stt-streaming";

    [Fact]
    public async Task Windows_ThreeNodes_3x64ParallelClients_AdmitExactlyTheLimit_AndTheHeadersCountDownAsOnOneNode()
    {
        const int Limit = 300;
        await using var cluster = await DistributedNodes.StartAsync(3, new Dictionary<string, (int, double)> { [Batch] = (5, 10) },
            new Dictionary<string, string>
            {
                // A day-long window, so that no window boundary falls inside the test.
                ["Tollgate__RateLimits__Rules__safe__Limit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Tollgate__RateLimits__Rules__safe__Window"] = "1d",
            });
        var clients = Enumerable.Range(0, 3).Select(node =>
        {
            var client = cluster.Client(node);
            client.DefaultRequestHeaders.Add("Authorization", "Api-Key " + cluster.Key.Secret);
            return client;
        }).ToArray();
        var admitted = new System.Collections.Concurrent.ConcurrentBag<long>();
        var refused = 0;
        await Task.WhenAll(Enumerable.Range(0, 3 * 64).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                using var response = await clients[c % 3].GetAsync("v1/me");
                var remaining = long.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-RateLimit-Limit").Single());
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    admitted.Add(remaining);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                    Assert.Equal(0, remaining);
                    Assert.Equal("rate_limited", (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
                    Assert.True(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds >= 1);
                    Interlocked.Increment(ref refused);
                }
            }
        })));

        Assert.Equal(Limit, admitted.Count);
        Assert.Equal(3 * 64 * 3 - Limit, refused);
        // One counter, decided one request at a time: every remaining count from 299 down to 0 was handed out exactly once.
        Assert.Equal(Enumerable.Range(0, Limit).Select(i => (long)i), admitted.Order());
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task Leases_ThreeNodes_3x32SlowUploads_AgainstALimitOfFive_ExactlyFiveInFlight()
    {
        await using var cluster = await DistributedNodes.StartAsync(3, new Dictionary<string, (int, double)> { [Batch] = (5, 10) });
        var file = TestAudio.SpeechLikeWav();
        var gate = new GatedUpload();
        var clients = Enumerable.Range(0, 3).Select(node => cluster.Client(node, cluster.Key.Secret)).ToArray();
        var calls = Enumerable.Range(0, 3 * 32).Select(async c =>
        {
            using var request = gate.Request(Batch, file);
            using var response = await clients[c % 3].SendAsync(request);
            return response.StatusCode;
        }).ToList();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (calls.Count(c => c.IsCompleted) < 3 * 32 - 5)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{calls.Count(c => c.IsCompleted)} answered, {string.Join(",", calls.Where(c => c.IsCompleted).Select(c => c.IsFaulted ? c.Exception!.InnerException!.Message : c.Result.ToString()).Distinct())}; in flight {await cluster.InFlightAsync(0, Batch)}");
            }
            await Task.WhenAny(calls.Where(c => !c.IsCompleted).Append(Task.Delay(1000)));
        }
        Assert.All(calls.Where(c => c.IsCompleted), c => Assert.Equal(HttpStatusCode.TooManyRequests, c.Result));
        Assert.Equal(5, await cluster.InFlightAsync(2, Batch));

        gate.Open();
        var all = await Task.WhenAll(calls);
        Assert.Equal(5, all.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(3 * 32 - 5, all.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(0, await cluster.InFlightAsync(0, Batch));
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task Quotas_ThreeNodes_ParallelUploadsThroughEveryNode_NeverTogetherExceedTheQuota_AndTheLedgerHoldsExactlyWhatWasAdmitted()
    {
        const long QuotaMs = 10_000; // room for three 3,000 ms files, not four
        await using var cluster = await DistributedNodes.StartAsync(3, new Dictionary<string, (int, double)> { [Batch] = (30, QuotaMs / 3_600_000d) });
        var file = TestAudio.SpeechLikeWav(); // 3,000 ms
        var clients = Enumerable.Range(0, 3).Select(node => cluster.Client(node, cluster.Key.Secret)).ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, 3 * 8).Select(async c =>
        {
            using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "audio.wav" } };
            using var response = await clients[c % 3].PostAsync($"api/{Batch}", content);
            var code = response.StatusCode == HttpStatusCode.OK ? null : (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>();
            return (response.StatusCode, code);
        }));

        Assert.Equal(3, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal((HttpStatusCode.Forbidden, "quota_exceeded"), r));
        // The ledger, in PostgreSQL: exactly the admitted charges, within the quota, each once.
        Assert.Equal(3L, cluster.Database.Scalar("SELECT COUNT(*) FROM usage_charges"));
        Assert.Equal(9_000L, cluster.Database.Scalar("SELECT COALESCE(SUM(ms), 0) FROM usage_charges"));
        // Every node reports the same use, and refuses a fourth file.
        for (var node = 0; node < 3; node++)
        {
            using var admin = cluster.AdminClient(node);
            var report = await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{cluster.Key.OrgId}/usage");
            var model = report!["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == Batch)!;
            Assert.Equal(9_000, model["used_ms"]!.GetValue<long>());
            using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "audio.wav" } };
            using var refused = await clients[node].PostAsync($"api/{Batch}", content);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        Assert.Equal(3L, cluster.Database.Scalar("SELECT COUNT(*) FROM usage_charges"));
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task Leases_ANodeKilledWhileHoldingAnUploadAndAWebSocket_FreesThemWithinTheTtl()
    {
        var ttl = TimeSpan.FromSeconds(3);
        await using var cluster = await DistributedNodes.StartAsync(2,
            new Dictionary<string, (int, double)> { [Batch] = (1, 10), [Streaming] = (1, 10) },
            new Dictionary<string, string> { ["Tollgate__Leases__Ttl"] = "3s" });
        var file = TestAudio.SpeechLikeWav();
        var stuck = new GatedUpload();
        using var doomedClient = cluster.Client(0, cluster.Key.Secret);
        using var abandon = new CancellationTokenSource();
        var upload = doomedClient.SendAsync(stuck.Request(Batch, file), abandon.Token);
        await stuck.BodyStarted.WaitAsync(TimeSpan.FromSeconds(30));
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(cluster.WebSocketUri(0, $"/api/{Streaming}?api_key={cluster.Key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1"),
            CancellationToken.None);
        Assert.Equal(1, await cluster.InFlightAsync(1, Batch));
        Assert.Equal(1, await cluster.InFlightAsync(1, Streaming));
        // A second of audio into the stream: the doomed node holds a quota reservation for it too.
        await socket.SendAsync(new byte[32_000], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var reservedDeadline = DateTime.UtcNow.AddSeconds(20);
        while ((await cluster.UsageAsync(1, Streaming))["reserved_ms"]!.GetValue<long>() == 0)
        {
            Assert.True(DateTime.UtcNow < reservedDeadline, "the stream's audio never showed as reserved");
            await Task.Delay(25);
        }
        var chargesBefore = cluster.Database.Scalar("SELECT COUNT(*) FROM usage_charges");

        // The other node refuses: the pools are full, wherever their slots were taken.
        using var survivor = cluster.Client(1, cluster.Key.Secret);
        using (var refused = await survivor.SendAsync(new GatedUpload().Request(Batch, file)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }
        await using (var second = await WebSocketSession.ConnectAsync(cluster.WebSocketUri(1,
            $"/api/{Streaming}?api_key={cluster.Key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1")))
        {
            Assert.Equal(4029, (await second.ReadUntilClosedAsync()).CloseCode);
        }

        cluster.Nodes[0].Kill();
        await cluster.Nodes[0].WaitForExitAsync();
        var killed = Stopwatch.StartNew();
        await cluster.WaitForInFlightAsync(1, Batch, 0, ttl + TimeSpan.FromSeconds(5));
        await cluster.WaitForInFlightAsync(1, Streaming, 0, ttl + TimeSpan.FromSeconds(5));
        var freedAfter = killed.Elapsed;

        Assert.True(freedAfter <= ttl + TimeSpan.FromSeconds(1), $"the dead node's leases were freed after {freedAfter}, TTL {ttl}");
        // Its quota reservations expired with them, and no committed charge was lost.
        long reserved;
        while ((reserved = (await cluster.UsageAsync(1, Streaming))["reserved_ms"]!.GetValue<long>()
                           + (await cluster.UsageAsync(1, Batch))["reserved_ms"]!.GetValue<long>()) != 0)
        {
            Assert.True(killed.Elapsed <= ttl + TimeSpan.FromSeconds(1), $"{reserved} ms still reserved {killed.Elapsed} after the kill, TTL {ttl}");
            await Task.Delay(25);
        }
        Assert.Equal(chargesBefore, cluster.Database.Scalar("SELECT COUNT(*) FROM usage_charges"));
        using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "audio.wav" } };
        using var served = await survivor.PostAsync($"api/{Batch}", content);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        abandon.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => upload);
        socket.Abort();
        socket.Dispose();
    }

    [Fact]
    public async Task Leases_LiveRequestsAndWebSockets_KeepTheirSlotsPastManyTtls()
    {
        await using var cluster = await DistributedNodes.StartAsync(2,
            new Dictionary<string, (int, double)> { [Batch] = (1, 10), [Streaming] = (1, 10) },
            new Dictionary<string, string> { ["Tollgate__Leases__Ttl"] = "3s" });
        var file = TestAudio.SpeechLikeWav();
        var slow = new GatedUpload();
        using var client = cluster.Client(0, cluster.Key.Secret);
        var upload = client.SendAsync(slow.Request(Batch, file));
        await slow.BodyStarted.WaitAsync(TimeSpan.FromSeconds(30));
        await using var stream = await WebSocketSession.ConnectAsync(cluster.WebSocketUri(0,
            $"/api/{Streaming}?api_key={cluster.Key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1"));

        // Three TTLs later (renewed every second by their node) both still hold their slots.
        var until = DateTime.UtcNow.AddSeconds(9);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(1, await cluster.InFlightAsync(1, Batch));
            Assert.Equal(1, await cluster.InFlightAsync(1, Streaming));
            await stream.SendBinaryAsync(new byte[3200]); // audio keeps the stream from its idle timeout
            await Task.Delay(500);
        }
        slow.Open();
        Assert.Equal(HttpStatusCode.OK, (await upload).StatusCode);
        await stream.SendTextAsync("");
        await stream.ReadUntilClosedAsync();
        Assert.Equal(0, await cluster.InFlightAsync(1, Batch));
        Assert.Equal(0, await cluster.InFlightAsync(1, Streaming));
    }

    [Fact]
    public async Task Revocation_ThroughOneNode_IsRefusedByAnotherWithinOneSecond()
    {
        await using var cluster = await DistributedNodes.StartAsync(2, new Dictionary<string, (int, double)> { [Batch] = (5, 10) });
        using var other = cluster.Client(1);
        other.DefaultRequestHeaders.Add("Authorization", "Api-Key " + cluster.Key.Secret);
        using (var warm = await other.GetAsync("v1/me"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // the other node has the key cached now
        }

        using var admin = cluster.AdminClient(0);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"admin/orgs/{cluster.Key.OrgId}/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"admin/keys/{cluster.Key.KeyId}")).StatusCode);
        var clock = Stopwatch.StartNew(); // from the moment the revocation is answered
        HttpStatusCode status;
        string? code;
        do
        {
            using var response = await other.GetAsync("v1/me");
            status = response.StatusCode;
            code = status == HttpStatusCode.OK ? null : (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>();
        }
        while (status == HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("revoked_api_key", code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the other node refused the revoked key after {clock.Elapsed}");
    }
    [Fact]
    public async Task DisablingAUser_ThroughOneNode_IsRefusedByAnotherWithinOneSecond_AndEnablingWorksThereToo()
    {
        await using var cluster = await DistributedNodes.StartAsync(2, new Dictionary<string, (int, double)> { [Batch] = (5, 10) });
        using var other = cluster.Client(1);
        other.DefaultRequestHeaders.Add("Authorization", "Api-Key " + cluster.Key.Secret);
        using (var warm = await other.GetAsync("v1/me"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // the other node has the key cached now
        }

        using var admin = cluster.AdminClient(0);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"admin/users/{cluster.Key.UserId}/disable", null)).StatusCode);
        var (status, code, elapsed) = await FirstAnswerOtherThanAsync(other, HttpStatusCode.OK);
        Assert.Equal((HttpStatusCode.Unauthorized, "user_disabled"), (status, code));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the other node refused the disabled user's key after {elapsed}");

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"admin/users/{cluster.Key.UserId}/enable", null)).StatusCode);
        (status, _, elapsed) = await FirstAnswerOtherThanAsync(other, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the other node accepted the enabled user's key after {elapsed}");
    }

    [Fact]
    public async Task AnAdminTokenRevokedThroughOneNode_IsRefusedByAnother_AtItsNextCall()
    {
        await using var cluster = await DistributedNodes.StartAsync(2, new Dictionary<string, (int, double)> { [Batch] = (5, 10) });
        using var admin = cluster.AdminClient(0);
        using var created = await admin.PostAsJsonAsync("admin/tokens", new { name = "console", org_id = cluster.Key.OrgId });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        using var orgAdmin = cluster.Client(1);
        orgAdmin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", body["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await orgAdmin.GetAsync($"admin/orgs/{cluster.Key.OrgId}/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await orgAdmin.GetAsync("admin/orgs")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"admin/tokens/{body["id"]!.GetValue<string>()}")).StatusCode);
        using var refused = await orgAdmin.GetAsync($"admin/orgs/{cluster.Key.OrgId}/keys");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    /// <summary>Calls <c>GET /v1/me</c> until the answer is not <paramref name="while"/> (at most 5 s); that answer and how long it took.</summary>
    private static async Task<(HttpStatusCode Status, string? Code, TimeSpan Elapsed)> FirstAnswerOtherThanAsync(HttpClient client, HttpStatusCode @while)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync("v1/me");
            if (response.StatusCode != @while || clock.Elapsed > TimeSpan.FromSeconds(5))
            {
                var code = response.StatusCode == HttpStatusCode.OK ? null : (await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>();
                return (response.StatusCode, code, clock.Elapsed);
            }
        }
    }
}
