using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tollgate.Infrastructure;
using Tollgate.Storage.Postgres;

namespace Tollgate.Hosting;

/// <summary>
/// The server process on PostgreSQL (<c>ConnectionStrings__Tollgate=Host=…</c>), each test on a database of its own on
/// the test server (TOLLGATE_TEST_POSTGRES): what it records survives a kill -9, and nodes starting at once on an empty
/// database all come up on one schema, one admin token and one demo organization.
/// </summary>
public sealed class PostgresServerTests : IDisposable
{
    private const string AdminToken = "postgres-admin-token-0123456789";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tollgate-postgres-server", Guid.NewGuid().ToString("N"));
    private readonly TempPostgresDatabase _database = new();

    public void Dispose()
    {
        _database.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task KillMinus9_OnPostgres_LosesNoKeyAndNoCharge_AndAnotherNodeSeesThem()
    {
        var environment = Environment(AdminToken);
        string orgId;
        string key;
        string keyId;
        await using (var first = await ServerProcess.StartAsync(Folder("first"), environment))
        {
            using var admin = Admin(first.Address!, AdminToken);
            orgId = await CreateAsync(admin, "admin/orgs", new { name = "Acme" });
            var userId = await CreateAsync(admin, $"admin/orgs/{orgId}/users", new { name = "ada" });
            using var issued = await admin.PostAsJsonAsync($"admin/orgs/{orgId}/users/{userId}/keys",
                new { models = new Dictionary<string, object> { ["velma-2-stt-batch"] = new { concurrency = 2, monthly_audio_hours = 1.0 } } });
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            var body = (await issued.Content.ReadFromJsonAsync<JsonObject>())!;
            key = body["key"]!.GetValue<string>();
            keyId = body["id"]!.GetValue<string>();

            using var client = Client(first.Address!, key);
            using var answer = await PostSpeechAsync(client);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(3_000, await UsedMsAsync(admin, orgId));
            first.Kill();
            await first.WaitForExitAsync();
        }

        // Another node (its own, empty data folder: nothing comes from the first one's files) on the same database.
        await using var second = await ServerProcess.StartAsync(Folder("second"), environment);
        using (var admin = Admin(second.Address!, AdminToken))
        {
            Assert.Equal(3_000, await UsedMsAsync(admin, orgId));
            var keys = (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{orgId}/keys"))!["items"]!.AsArray();
            Assert.Contains(keys, k => k!["id"]!.GetValue<string>() == keyId);
        }
        using (var client = Client(second.Address!, key))
        {
            using var again = await PostSpeechAsync(client);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
        using (var admin = Admin(second.Address!, AdminToken))
        {
            Assert.Equal(6_000, await UsedMsAsync(admin, orgId));
        }
        Assert.False(File.Exists(Path.Combine(Folder("first"), "tollgate.db")), "a PostgreSQL node keeps no SQLite file");
        Assert.Equal(2L, _database.Scalar("SELECT COUNT(*) FROM usage_charges"));
    }

    [Fact]
    public async Task TwoNodesStartingAtOnce_OnAnEmptyDatabase_BothComeUp_OnOneSchemaOneTokenAndOneDemo()
    {
        // No configured admin token: each node would generate one; the first stored is the token of both.
        var environment = Environment(adminToken: null);
        var starts = new[] { "a", "b" }.Select(name => ServerProcess.StartAsync(Folder(name), environment)).ToArray();
        await using var a = await starts[0];
        await using var b = await starts[1];

        foreach (var node in new[] { a, b })
        {
            await node.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(60));
        }
        // The first-start banners (the token from one node, the demo key from one) are printed as the hosts report started.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string[] outputs;
        while (!((outputs = [a.Output, b.Output]).Any(o => o.Contains("tga_", StringComparison.Ordinal))
                 && outputs.Any(o => o.Contains("tgk_", StringComparison.Ordinal))) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        var tokens = outputs.SelectMany(o => Regex.Matches(o, @"\b(tga_[A-Za-z0-9]+)").Select(m => m.Groups[1].Value)).Distinct().ToList();
        var token = Assert.Single(tokens);
        Assert.Single(outputs, o => o.Contains("tgk_", StringComparison.Ordinal));

        foreach (var node in new[] { a, b })
        {
            using var admin = Admin(node.Address!, token);
            var orgs = (await admin.GetFromJsonAsync<JsonObject>("admin/orgs"))!["items"]!.AsArray();
            Assert.Equal("Demo", Assert.Single(orgs)!["name"]!.GetValue<string>());
        }
        Assert.Equal((long)PostgresMigrator.Scripts.Count, _database.Scalar($"SELECT COUNT(*) FROM {PostgresMigrator.JournalTable}"));
    }

    [Fact]
    public async Task APlatformJob_OnPostgres_IsStoredThere_AndAnotherNodeAnswersItsStatus()
    {
        var environment = Environment(AdminToken);
        await using var first = await ServerProcess.StartAsync(Folder("first"), environment);
        using var admin = Admin(first.Address!, AdminToken);
        var orgId = await CreateAsync(admin, "admin/orgs", new { name = "Acme" });
        var userId = await CreateAsync(admin, $"admin/orgs/{orgId}/users", new { name = "ada" });
        using var issued = await admin.PostAsJsonAsync($"admin/orgs/{orgId}/users/{userId}/keys",
            new { models = new Dictionary<string, object> { ["velma-2-stt-batch"] = new { concurrency = 2, monthly_audio_hours = 1.0 } } });
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var key = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();

        using var platform = new HttpClient { BaseAddress = new Uri(first.Address + "/") };
        platform.DefaultRequestHeaders.Add("accountuuid", orgId);
        platform.DefaultRequestHeaders.Add("apikey", key);
        var body = new JsonObject { ["audio_base64"] = Convert.ToBase64String(TestAudio.SpeechLikeWav()), ["file_extension"] = "wav", ["finalize_job"] = false };
        using var opened = await platform.PostAsync("api_service", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        var jobId = (await opened.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!.GetValue<string>();
        body["job_id"] = jobId;
        body["finalize_job"] = true;
        using var finalized = await platform.PostAsync("api_service", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, finalized.StatusCode);

        // Another node on the same database (its own, empty data folder) answers the job's status from PostgreSQL.
        await using var second = await ServerProcess.StartAsync(Folder("second"), environment);
        using var poll = new HttpClient { BaseAddress = new Uri(second.Address + "/") };
        poll.DefaultRequestHeaders.Add("accountuuid", orgId);
        poll.DefaultRequestHeaders.Add("apikey", key);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        JsonObject status;
        while ((status = (await poll.GetFromJsonAsync<JsonObject>($"api_service/job_status/{jobId}"))!)["status"]!.GetValue<string>() != "completed")
        {
            Assert.True(DateTime.UtcNow < deadline, $"The job did not complete: {status.ToJsonString()}");
            await Task.Delay(50);
        }
        Assert.Equal(2, status["files"]!.AsArray().Count);
        Assert.Equal(2L, _database.Scalar("SELECT COUNT(*) FROM platform_files"));
        Assert.Equal(1L, _database.Scalar("SELECT COUNT(*) FROM platform_jobs WHERE status = 'completed'"));
    }

    private Dictionary<string, string> Environment(string? adminToken)
    {
        var environment = new Dictionary<string, string> { ["ConnectionStrings__Tollgate"] = _database.ConnectionString };
        if (adminToken is not null)
        {
            environment["Tollgate__Admin__Token"] = adminToken;
        }
        return environment;
    }

    private string Folder(string name)
    {
        var folder = Path.Combine(_root, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static async Task<string> CreateAsync(HttpClient admin, string path, object body)
    {
        using var response = await admin.PostAsJsonAsync(path, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private static Task<HttpResponseMessage> PostSpeechAsync(HttpClient client)
    {
        var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
        return client.PostAsync("api/velma-2-stt-batch", content);
    }

    private static async Task<long> UsedMsAsync(HttpClient admin, string orgId)
    {
        var report = await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{orgId}/usage");
        var stt = report!["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == "velma-2-stt-batch")!;
        return stt["used_ms"]!.GetValue<long>();
    }

    private static HttpClient Admin(string address, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static HttpClient Client(string address, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/") };
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        return client;
    }
}
