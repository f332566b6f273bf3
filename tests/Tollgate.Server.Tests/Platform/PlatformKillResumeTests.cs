using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Tollgate.Hosting;
using Tollgate.Infrastructure;
using Tollgate.Jobs;
using Tollgate.Limits;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Relational.Jobs;
using Tollgate.Storage.Relational.Metering;

namespace Tollgate.Platform;

/// <summary>
/// A Platform job whose server process is killed (SIGKILL) while its files are being processed is finished by the next
/// start: no charge recorded before the kill is lost, none is written twice, and the job is not left stuck.
/// </summary>
public sealed class PlatformKillResumeTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const string AdminToken = "platform-kill-admin-token-0123456789";
    private const int Files = 6;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-platform-kill", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task AJobWhoseServerIsKilledMidProcessing_IsFinishedAfterRestart_AndEachFileChargedOncePerModel()
    {
        Directory.CreateDirectory(_directory);
        var environment = new Dictionary<string, string>
        {
            ["Tollgate__Admin__Token"] = AdminToken,
            ["Tollgate__Bootstrap__CreateDemo"] = "false",
            ["Tollgate__SpoolDirectory"] = Path.Combine(_directory, "spool"),
            ["Tollgate__Jobs__LeaseSeconds"] = "2",
            ["Tollgate__Jobs__PollSeconds"] = "0.2",
        };
        var database = new SqliteDatabase($"Data Source={Path.Combine(_directory, "tollgate.db")}");
        var audio = TestAudio.Wav(TestAudio.Samples(16_000, 150, (1, 60), (70, 149)), 16_000);
        const long fileMs = 150_000;
        string jobId;
        (string Org, string Key) key;
        await using (var first = await ServerProcess.StartAsync(_directory, environment))
        {
            key = await CreateKeyAsync(first.Address!);
            using var client = Client(first.Address!, key);
            jobId = await SubmitAsync(client, audio);
            // Killed once the first file's charges are recorded: the job is then part-way through its files.
            var ledger = new SqlUsageLedger(database);
            await Eventually.WaitForAsync(async () => (await ledger.ChargesAsync(key.Org, MonthPeriod.Current(TimeProvider.System))).Count >= 2 ? "" : null);
            first.Kill();
            await first.WaitForExitAsync();
            var job = await new SqlJobStore(database, TimeProvider.System).GetAsync("platform:" + jobId);
            output.WriteLine($"Killed with the job {job!.State}.");
        }
        var before = await new SqlUsageLedger(database).ChargesAsync(key.Org, MonthPeriod.Current(TimeProvider.System));
        output.WriteLine($"{before.Count} charges recorded before the kill.");

        await using var second = await ServerProcess.StartAsync(_directory, environment);
        using (var client = Client(second.Address!, key))
        {
            var done = await Eventually.WaitForAsync(async () =>
            {
                var body = JsonNode.Parse(await client.GetStringAsync($"api_service/job_status/{jobId}"))!;
                return body["status"]!.GetValue<string>() == "completed" ? body : null;
            });
            Assert.All(done["files"]!.AsArray(), f => Assert.Equal("completed", f!["status"]!.GetValue<string>()));
            Assert.Equal(Files * 2, done["api_calls_charged"]!.GetValue<int>());
        }
        var charges = await new SqlUsageLedger(database).ChargesAsync(key.Org, MonthPeriod.Current(TimeProvider.System));
        Assert.Equal(Files * 2, charges.Count);
        Assert.All(charges, c => Assert.Equal(fileMs, c.Milliseconds));
        Assert.All(before, c => Assert.Contains(charges, after => after.RequestId == c.RequestId && after.At == c.At));
    }

    private static async Task<string> SubmitAsync(HttpClient client, byte[] audio)
    {
        string? jobId = null;
        for (var i = 0; i < Files; i++)
        {
            var body = new JsonObject
            {
                ["audio_base64"] = Convert.ToBase64String(audio),
                ["file_extension"] = "wav",
                ["flags"] = new JsonObject { ["emotion_annotation"] = true },
                ["finalize_job"] = i == Files - 1,
            };
            if (jobId is not null)
            {
                body["job_id"] = jobId;
                body.Remove("flags");
            }
            using var response = await client.PostAsJsonAsync("api_service", body);
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True(response.StatusCode == HttpStatusCode.OK, answer.ToJsonString());
            jobId = answer["job_id"]!.GetValue<string>();
        }
        return jobId!;
    }

    private static HttpClient Client(string address, (string Org, string Key) key)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Add("accountuuid", key.Org);
        client.DefaultRequestHeaders.Add("apikey", key.Key);
        return client;
    }

    private static async Task<(string, string)> CreateKeyAsync(string address)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(address + "/") };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        var org = await PostAsync(admin, "admin/orgs", new { name = "platform-kill" });
        var user = await PostAsync(admin, $"admin/orgs/{org["id"]}/users", new { name = "user" });
        var models = new Dictionary<string, object>
        {
            [PlatformClient.Transcription] = new { concurrency = 5, monthly_audio_hours = 10 },
            [PlatformClient.Emotion] = new { concurrency = 5, monthly_audio_hours = 10 },
        };
        var key = await PostAsync(admin, $"admin/orgs/{org["id"]}/users/{user["id"]}/keys", new { models });
        return (org["id"]!.GetValue<string>(), key["key"]!.GetValue<string>());
    }

    private static async Task<JsonNode> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path} → {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }
}
