using System.Text.Json;
using Tollgate.Cli;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary><c>tollgate</c> against the real server process: every admin command, in JSON and as tables.</summary>
[Collection(ServerProcessCollection.Name)]
public sealed class AdminCommandsTests(ServerProcessFixture fixture)
{
    private const string Model = "velma-2-stt-batch";

    private readonly Func<string, string?> _environment = CliRunner.Environment(
        (GlobalOptions.UrlVariable, fixture.Server.BaseAddress.ToString()),
        (GlobalOptions.AdminTokenVariable, ServerProcess.AdminToken));

    [Fact]
    public async Task OrgsUsersKeys_FullLifecycle_InJson()
    {
        var org = await JsonAsync("orgs", "create", "Acme Audio", "--json");
        var orgId = org.GetProperty("id").GetString()!;
        Assert.Equal("Acme Audio", org.GetProperty("name").GetString());
        Assert.True(org.TryGetProperty("created_at", out _));

        var orgs = await JsonAsync("orgs", "list", "--json");
        Assert.Contains(orgs.EnumerateArray(), o => o.GetProperty("id").GetString() == orgId);

        var user = await JsonAsync("users", "create", "--org", orgId, "alice", "--json");
        var userId = user.GetProperty("id").GetString()!;
        Assert.Equal(orgId, user.GetProperty("org_id").GetString());

        var users = await JsonAsync("users", "list", "--org", orgId, "--json");
        Assert.Equal(userId, Assert.Single(users.EnumerateArray()).GetProperty("id").GetString());

        var created = await JsonAsync("keys", "create", "--org", orgId, "--user", userId, "--name", "ci key",
            "--model", $"{Model}:concurrency=5,hours=10", "--model", "velma-2-emotion-batch:concurrency=2,hours=0.5", "--json");
        var keyId = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("key").GetString()!;
        Assert.StartsWith(created.GetProperty("prefix").GetString()!, secret);
        Assert.Equal("ci key", created.GetProperty("name").GetString());
        Assert.Equal(5, created.GetProperty("models").GetProperty(Model).GetProperty("concurrency").GetInt32());
        Assert.Equal(10.0, created.GetProperty("models").GetProperty(Model).GetProperty("monthly_audio_hours").GetDouble());
        Assert.Equal(0.5, created.GetProperty("models").GetProperty("velma-2-emotion-batch").GetProperty("monthly_audio_hours").GetDouble());

        var list = await RunOkAsync("keys", "list", "--org", orgId, "--json");
        Assert.DoesNotContain(secret, list.Stdout);
        var listed = Assert.Single(JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray());
        Assert.Equal(keyId, listed.GetProperty("id").GetString());
        Assert.False(listed.TryGetProperty("key", out _));

        var shown = await JsonAsync("keys", "show", keyId, "--json");
        Assert.Equal(userId, shown.GetProperty("user_id").GetString());
        Assert.Equal(JsonValueKind.Null, shown.GetProperty("revoked_at").ValueKind);

        var revoke = await RunOkAsync("keys", "revoke", keyId);
        Assert.Contains($"Key {keyId} revoked.", revoke.Stdout);

        var revoked = await JsonAsync("keys", "show", keyId, "--json");
        Assert.NotEqual(JsonValueKind.Null, revoked.GetProperty("revoked_at").ValueKind);
    }

    [Fact]
    public async Task KeysCreate_Tables_PrintTheSecretOnceWithAWarningAndTheEntitlements()
    {
        var (orgId, userId) = await OrgAndUserAsync();

        var run = await RunOkAsync("keys", "create", "--org", orgId, "--user", userId, "--model", $"{Model}:concurrency=3,hours=1.5");

        Assert.Contains("Store this key now: it cannot be shown again.", run.Stdout);
        var keys = JsonDocument.Parse((await RunOkAsync("keys", "list", "--org", orgId, "--json")).Stdout).RootElement;
        var prefix = Assert.Single(keys.EnumerateArray()).GetProperty("prefix").GetString()!;
        var secretLine = run.Stdout.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Length > prefix.Length);
        Assert.DoesNotContain(' ', secretLine);
        Assert.Contains(Model, run.Stdout);
        Assert.Contains("Monthly audio hours", run.Stdout);
        Assert.Matches(@"│\s*3\s*│\s*1\.5\s*│", run.Stdout);
    }

    [Fact]
    public async Task Tables_ListAndShow_AreReadable()
    {
        var (orgId, userId) = await OrgAndUserAsync();
        var keyId = (await JsonAsync("keys", "create", "--org", orgId, "--user", userId, "--name", "[bold]not markup[/]",
            "--model", $"{Model}:concurrency=1,hours=2", "--json")).GetProperty("id").GetString()!;

        var orgs = await RunOkAsync("orgs", "list");
        Assert.Contains(orgId, orgs.Stdout);

        var users = await RunOkAsync("users", "list", "--org", orgId);
        Assert.Contains(userId, users.Stdout);
        Assert.Contains("bob", users.Stdout);

        var keys = await RunOkAsync("keys", "list", "--org", orgId);
        Assert.Contains(keyId, keys.Stdout);
        Assert.Contains("active", keys.Stdout);

        var show = await RunOkAsync("keys", "show", keyId);
        Assert.Contains("[bold]not markup[/]", show.Stdout);
        Assert.Contains(orgId, show.Stdout);
        Assert.Contains("never", show.Stdout);
        Assert.Contains(Model, show.Stdout);

        await RunOkAsync("keys", "revoke", keyId);
        Assert.Contains("revoked 20", (await RunOkAsync("keys", "show", keyId)).Stdout);
    }

    [Fact]
    public async Task UnknownOrganization_ExitsOneWithDetailAndCodeOnStderr()
    {
        var run = await RunAsync("users", "list", "--org", "org_does_not_exist");
        Assert.Equal(ExitCodes.ApiError, run.ExitCode);
        Assert.Contains("org_does_not_exist", run.Stderr);
        Assert.Contains("(not_found) [HTTP 404]", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task UnknownModel_ExitsOneWithTheServersValidationError()
    {
        var (orgId, userId) = await OrgAndUserAsync();
        var run = await RunAsync("keys", "create", "--org", orgId, "--user", userId, "--model", "velma-9-nonsense:concurrency=1,hours=1");
        Assert.Equal(ExitCodes.ApiError, run.ExitCode);
        Assert.Contains("velma-9-nonsense", run.Stderr);
        Assert.Contains("(validation_failed) [HTTP 422]", run.Stderr);
    }

    [Fact]
    public async Task WrongAdminToken_ExitsOne()
    {
        var run = await RunAsync("orgs", "list", "--admin-token", "not-the-token");
        Assert.Equal(ExitCodes.ApiError, run.ExitCode);
        Assert.Contains("(invalid_admin_token) [HTTP 401]", run.Stderr);
    }

    [Fact]
    public async Task Usage_ReportsOrSaysTheServerHasNoUsageYet()
    {
        var (orgId, _) = await OrgAndUserAsync();
        var run = await RunAsync("usage", "--org", orgId, "--month", "2025-01", "--json");
        if (run.ExitCode == ExitCodes.Ok)
        {
            var report = JsonDocument.Parse(run.Stdout).RootElement;
            Assert.Equal(orgId, report.GetProperty("org_id").GetString());
            Assert.Equal("2025-01", report.GetProperty("month").GetString());
        }
        else
        {
            Assert.Equal(ExitCodes.ApiError, run.ExitCode);
            Assert.Contains("does not offer usage reports yet", run.Stderr);
        }
    }

    private async Task<(string OrgId, string UserId)> OrgAndUserAsync()
    {
        var orgId = (await JsonAsync("orgs", "create", "org " + Guid.NewGuid().ToString("N")[..8], "--json")).GetProperty("id").GetString()!;
        var userId = (await JsonAsync("users", "create", "--org", orgId, "bob", "--json")).GetProperty("id").GetString()!;
        return (orgId, userId);
    }

    private async Task<JsonElement> JsonAsync(params string[] args) =>
        JsonDocument.Parse((await RunOkAsync(args)).Stdout).RootElement.Clone();

    private async Task<CliRun> RunOkAsync(params string[] args)
    {
        var run = await RunAsync(args);
        Assert.True(run.ExitCode == ExitCodes.Ok, $"tollgate {string.Join(' ', args)} → {run}");
        return run;
    }

    private Task<CliRun> RunAsync(params string[] args) => CliRunner.RunAsync(args, _environment);
}
