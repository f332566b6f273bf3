using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Hosting;

/// <summary>
/// SIGTERM under load, on the server binary run as its own process: open streams are told (<c>server_shutting_down</c>)
/// and closed 1001 with their audio charged, uploads in flight finish and are answered, one that cannot finish within
/// Tollgate:Shutdown:Timeout is cut off uncharged, and after a restart the ledger holds exactly what the clients were
/// given: the 200s and the streams' accepted audio.
/// </summary>
public sealed class GracefulShutdownTests : IDisposable
{
    private const string AdminToken = "shutdown-admin-token-0123456789";
    private const string Batch = "velma-2-stt-batch";
    private const string Streaming = "velma-2-stt-streaming";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-shutdown", Guid.NewGuid().ToString("N"));

    private readonly Dictionary<string, string> _environment = new()
    {
        ["Tollgate__Admin__Token"] = AdminToken,
        ["Tollgate__Bootstrap__CreateDemo"] = "false",
        ["Tollgate__Shutdown__Timeout"] = "8s",
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Sigterm_ClosesStreams1001_FinishesUploads_AndTheLedgerEqualsWhatClientsReceived()
    {
        Directory.CreateDirectory(_directory);
        string orgId;
        var okUploads = 0;
        long streamedMs = 0;
        await using (var server = await ServerProcess.StartAsync(_directory, _environment))
        {
            var address = new Uri(server.Address! + "/");
            using var admin = Admin(address);
            orgId = await CreateOrgAsync(admin);
            var key = await CreateKeyAsync(admin, orgId);
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Add("X-API-Key", key);
            var file = TestAudio.SpeechLikeWav();

            // Answered before the signal.
            for (var i = 0; i < 2; i++)
            {
                using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "a.wav" } };
                using var response = await client.PostAsync("api/" + Batch, content);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                okUploads++;
            }

            // In flight at the signal: three uploads that will finish, one that will not, three streams with audio accepted.
            var finishing = new GatedUpload();
            var uploads = Enumerable.Range(0, 3).Select(_ => client.SendAsync(finishing.Request(Batch, file))).ToList();
            var stuck = new GatedUpload();
            var stuckUpload = client.SendAsync(stuck.Request(Batch, file));
            await WaitForAsync(admin, orgId, Batch, "in_flight", 4);

            var uri = new Uri($"ws://{address.Authority}/api/{Streaming}?api_key={key}&audio_format=s16le&sample_rate=16000&num_channels=1");
            var streams = new List<WebSocketSession>();
            foreach (var seconds in new[] { 1.0, 1.5, 2.25 })
            {
                var session = await WebSocketSession.ConnectAsync(uri);
                await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, seconds, (0.1, seconds - 0.1))));
                streams.Add(session);
                streamedMs += (long)(seconds * 1000);
            }
            await WaitForAsync(admin, orgId, Streaming, "reserved_ms", streamedMs);

            server.Terminate();
            var sinceSignal = System.Diagnostics.Stopwatch.StartNew();

            foreach (var session in streams)
            {
                var received = await session.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
                Assert.Equal(1001, received.CloseCode);
                var error = received.Messages.Last();
                Assert.Equal("error", error["type"]!.GetValue<string>());
                Assert.Equal("server_shutting_down", error["code"]!.GetValue<string>());
                await session.DisposeAsync();
            }

            finishing.Open();
            foreach (var upload in uploads)
            {
                using var response = await upload;
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(3000, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["duration_ms"]!.GetValue<long>());
                okUploads++;
            }

            // The stuck one is cut off when the shutdown bound passes; the process then exits cleanly.
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                using var response = await stuckUpload;
                Assert.Fail($"the stuck upload was answered {(int)response.StatusCode}");
            });
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            // Within the configured bound (8 s, not the 30 s default), give or take the process's own exit.
            Assert.InRange(sinceSignal.Elapsed, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(20));
            Assert.Contains("Shutting down: closing 3 open streams", server.Output);
        }

        await using var restarted = await ServerProcess.StartAsync(_directory, _environment);
        using var after = Admin(new Uri(restarted.Address! + "/"));
        var batch = await UsageAsync(after, orgId, Batch);
        Assert.Equal(okUploads * 3000L, batch["used_ms"]!.GetValue<long>());
        Assert.Equal(okUploads, batch["charges"]!.GetValue<long>());
        var streaming = await UsageAsync(after, orgId, Streaming);
        Assert.Equal(streamedMs, streaming["used_ms"]!.GetValue<long>());
        Assert.Equal(3, streaming["charges"]!.GetValue<long>());
        Assert.Equal(0, batch["in_flight"]!.GetValue<int>() + streaming["in_flight"]!.GetValue<int>());
        Assert.Equal(0, batch["reserved_ms"]!.GetValue<long>() + streaming["reserved_ms"]!.GetValue<long>());
    }

    private static HttpClient Admin(Uri address)
    {
        var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    private static async Task<string> CreateOrgAsync(HttpClient admin)
    {
        using var response = await admin.PostAsJsonAsync("admin/orgs", new { name = "Acme" });
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private static async Task<string> CreateKeyAsync(HttpClient admin, string orgId)
    {
        using var user = await admin.PostAsJsonAsync($"admin/orgs/{orgId}/users", new { name = "ana" });
        var userId = (await user.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var key = await admin.PostAsJsonAsync($"admin/orgs/{orgId}/users/{userId}/keys", new
        {
            models = new Dictionary<string, object>
            {
                [Batch] = new { concurrency = 8, monthly_audio_hours = 10 },
                [Streaming] = new { concurrency = 8, monthly_audio_hours = 10 },
            },
        });
        return (await key.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
    }

    private static async Task<JsonObject> UsageAsync(HttpClient admin, string orgId, string model)
    {
        var report = await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{orgId}/usage");
        return report!["models"]!.AsArray().Select(m => m!.AsObject()).Single(m => m["model"]!.GetValue<string>() == model);
    }

    /// <summary>Polls the usage report (with a deadline, not a fixed sleep) until <paramref name="field"/> reaches <paramref name="expected"/>.</summary>
    private static async Task WaitForAsync(HttpClient admin, string orgId, string model, string field, long expected)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        long seen;
        while ((seen = (await UsageAsync(admin, orgId, model))[field]!.GetValue<long>()) != expected)
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"{model} {field} stayed {seen}, expected {expected}");
            }
            await Task.Delay(20);
        }
    }
}
