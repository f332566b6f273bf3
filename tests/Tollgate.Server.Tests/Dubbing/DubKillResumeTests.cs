using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Tollgate.Audio;
using Tollgate.Hosting;
using Tollgate.Infrastructure;
using Tollgate.Jobs;
using Tollgate.Storage.Postgres;
using Tollgate.Storage.Relational;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Relational.Jobs;

namespace Tollgate.Dubbing;

/// <summary>On the embedded store: the next start of the killed server finishes the dub.</summary>
[Collection(nameof(DubKillResumeTests))] // one 20-minute render at a time: two at once on 2 cores starve the 2 s lease's renewals
public sealed class SqliteDubKillResumeTests(Xunit.Abstractions.ITestOutputHelper output) : DubKillResumeTests(output)
{
    private protected override SqlDatabase OpenDatabase() => new SqliteDatabase($"Data Source={Path.Combine(Directory, "tollgate.db")}");

    protected override void AddStore(Dictionary<string, string> environment)
    {
    }

    public override void Dispose()
    {
        SqliteConnection.ClearAllPools();
        base.Dispose();
    }
}

/// <summary>On PostgreSQL: another node (its own process, the same database and the shared data folder) finishes the dub.</summary>
[Collection(nameof(DubKillResumeTests))]
public sealed class PostgresDubKillResumeTests(Xunit.Abstractions.ITestOutputHelper output) : DubKillResumeTests(output)
{
    private readonly TempPostgresDatabase _database = new();
    private PostgresDatabase? _opened;

    private protected override SqlDatabase OpenDatabase() => _opened = new PostgresDatabase(_database.ConnectionString);

    protected override void AddStore(Dictionary<string, string> environment) => environment["ConnectionStrings__Tollgate"] = _database.ConnectionString;

    public override void Dispose()
    {
        _opened?.Dispose();
        _database.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// A dub whose server process is killed (SIGKILL) while its generate job is claimed is finished by the next server on
/// the same store: the dead process's claim expires, the new engine takes the job again and resumes the dub from its
/// last stored step, charging it once.
/// </summary>
public abstract class DubKillResumeTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const string AdminToken = "kill-resume-admin-token-0123456789";

    protected string Directory { get; } = Path.Combine(Path.GetTempPath(), "tollgate-kill-resume", Guid.NewGuid().ToString("N"));

    /// <summary>The store the servers use, opened by the test to watch the job (after the first server has migrated it).</summary>
    private protected abstract SqlDatabase OpenDatabase();

    /// <summary>Points the servers at the store (SQLite: the file in the data folder, as <see cref="ServerProcess"/> sets it).</summary>
    protected abstract void AddStore(Dictionary<string, string> environment);

    public virtual void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task ADubWhoseServerIsKilledMidJob_IsFinishedByTheNextServer_AndChargedOnce()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var environment = new Dictionary<string, string>
        {
            ["Tollgate__Admin__Token"] = AdminToken,
            ["Tollgate__Bootstrap__CreateDemo"] = "false",
            ["Tollgate__SpoolDirectory"] = Path.Combine(Directory, "spool"),
            // A short lease, so the restarted server takes over the dead one's claim within seconds.
            ["Tollgate__Jobs__LeaseSeconds"] = "2",
            ["Tollgate__Jobs__PollSeconds"] = "0.2",
        };
        AddStore(environment);
        // 20 minutes of 16 kHz mono: rendering it (two decoding passes, 38 MB written and flushed) takes long enough
        // for the kill to land while the job is claimed.
        const int seconds = 20 * 60;
        var input = LongWav(16_000, seconds);

        string key;
        string dubId;
        string holder;
        SqlDatabase database;
        await using (var first = await ServerProcess.StartAsync(Directory, environment))
        {
            database = OpenDatabase();
            key = await CreateKeyAsync(first.Address!);
            using var client = Client(first.Address!, key);
            dubId = await CreateAndGenerateAsync(client, input);

            // Killed while its generate job is claimed (running), as soon as that is seen.
            var jobs = new SqlJobStore(database, TimeProvider.System);
            var claimed = await Eventually.WaitForAsync(async () => await jobs.GetAsync(dubId + ":generate") is { State: not JobState.Queued } job ? job : null);
            first.Kill();
            Assert.True(claimed.State == JobState.Running, $"The job ended before the kill: {claimed}\n{first.Output}");
            holder = claimed.ClaimHolder!;
            await first.WaitForExitAsync();

            var left = await jobs.GetAsync(dubId + ":generate");
            Assert.Equal((JobState.Running, holder), (left!.State, left.ClaimHolder));
            var dub = await new SqlDubbingStore(database).GetDubAsync(dubId);
            Assert.True(DubLifecycle.IsWorkPending(dub!.Status), $"interrupted mid-way, not {dub.Status}");
            output.WriteLine($"Killed with the dub {DubLifecycle.Wire(dub.Status)} and its job claimed by {holder}.");
        }

        await using var second = await ServerProcess.StartAsync(Directory, environment);
        using (var client = Client(second.Address!, key))
        {
            var done = await Eventually.WaitForAsync(async () =>
            {
                var body = JsonNode.Parse(await client.GetStringAsync($"v1/me/dubs/{dubId}"))!;
                var status = body["status"]!.GetValue<string>();
                Assert.NotEqual("error", status);
                return status == "done" ? body : null;
            });
            Assert.Equal(seconds, done["apiCreditsUsed"]!.GetValue<int>());
            Assert.Equal(36_000 - seconds, done["apiCreditsLeft"]!.GetValue<int>());
            using var result = await client.GetAsync($"v1/me/dubs/{dubId}/result");
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
            Assert.Equal(seconds * 1000L, AudioProbe.Probe(new MemoryStream(await result.Content.ReadAsByteArrayAsync())).Info.DurationMs);
        }
        var finished = await new SqlJobStore(database, TimeProvider.System).GetAsync(dubId + ":generate");
        Assert.Equal(JobState.Succeeded, finished!.State);
        Assert.Equal(2, finished.Attempts); // the killed run and the one that finished
        Assert.Contains("Resuming dubbing work left by a previous run: 1 dubs, 0 voices", second.Output);
    }

    /// <summary>A 16-bit mono WAV of a steady 400 Hz tone (one period computed, then repeated).</summary>
    internal static byte[] LongWav(int rate, int seconds)
    {
        var samples = new short[rate * seconds];
        var period = new short[rate / 400];
        for (var i = 0; i < period.Length; i++)
        {
            period[i] = (short)(9000 * Math.Sin(2 * Math.PI * i / period.Length));
        }
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = period[i % period.Length];
        }
        return TestAudio.Wav(samples, rate);
    }

    internal static async Task<string> CreateAndGenerateAsync(HttpClient client, byte[] input)
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(input) { Headers = { ContentType = new MediaTypeHeaderValue("audio/wav") } }, "file", "long.wav" },
            { new StringContent("es"), "targetLanguage" },
        };
        using var created = await client.PostAsync("v1/me/dubs", form);
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        var dubId = body["dubId"]!.GetValue<string>();
        using (var preprocess = await client.PostAsync($"v1/me/dubs/{dubId}/preprocess", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, preprocess.StatusCode);
        }
        await Eventually.WaitForAsync(async () =>
            JsonNode.Parse(await client.GetStringAsync($"v1/me/dubs/{dubId}"))!["status"]!.GetValue<string>() == "preprocessed" ? "" : null);
        using (var generate = await client.PostAsync($"v1/me/dubs/{dubId}/generate", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, generate.StatusCode);
        }
        return dubId;
    }

    private static HttpClient Client(string address, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Key", key);
        return client;
    }

    private static async Task<string> CreateKeyAsync(string address)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(address + "/") };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var org = await PostAsync(admin, "admin/orgs", new { name = "kill-resume" });
        var user = await PostAsync(admin, $"admin/orgs/{org["id"]}/users", new { name = "user" });
        var key = await PostAsync(admin, $"admin/orgs/{org["id"]}/users/{user["id"]}/keys",
            new { models = new Dictionary<string, object> { ["velma-2-batch"] = new { concurrency = 5, monthly_audio_hours = 10 } } });
        return key["key"]!.GetValue<string>();
    }

    private static async Task<JsonNode> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path} → {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }
}
