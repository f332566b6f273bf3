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

        var orgs = await JsonAsync("orgs", "list", "--all", "--json");
        Assert.Contains(orgs.EnumerateArray(), o => o.GetProperty("id").GetString() == orgId);
        Assert.Equal("Acme Audio", (await JsonAsync("orgs", "get", orgId, "--json")).GetProperty("name").GetString());

        var user = await JsonAsync("users", "create", "--org", orgId, "alice", "--json");
        var userId = user.GetProperty("id").GetString()!;
        Assert.Equal(orgId, user.GetProperty("org_id").GetString());

        var users = await JsonAsync("users", "list", "--org", orgId, "--json");
        Assert.Equal(userId, Assert.Single(users.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, users.GetProperty("next").ValueKind);

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
        var listed = Assert.Single(JsonDocument.Parse(list.Stdout).RootElement.GetProperty("items").EnumerateArray());
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
        var prefix = Assert.Single(keys.GetProperty("items").EnumerateArray()).GetProperty("prefix").GetString()!;
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

    [Fact]
    public async Task Lists_ArePaged_WithTheNextCursorPrinted_AndAllFollowsEveryPage()
    {
        var (orgId, _) = await OrgAndUserAsync();
        for (var i = 0; i < 2; i++)
        {
            await RunOkAsync("users", "create", "--org", orgId, $"u{i}");
        }
        var first = await JsonAsync("users", "list", "--org", orgId, "--limit", "2", "--json");
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        var next = first.GetProperty("next").GetString()!;
        var rest = await JsonAsync("users", "list", "--org", orgId, "--limit", "2", "--after", next, "--json");
        Assert.Equal(1, rest.GetProperty("items").GetArrayLength());
        Assert.Equal(3, (await JsonAsync("users", "list", "--org", orgId, "--limit", "1", "--all", "--json")).GetArrayLength());

        var table = await RunOkAsync("users", "list", "--org", orgId, "--limit", "2");
        Assert.Contains($"More: add --after {next}", table.Stdout);
        var bad = await RunAsync("users", "list", "--org", orgId, "--limit", "0");
        Assert.Equal(ExitCodes.UsageError, bad.ExitCode);
        var unknown = await RunAsync("orgs", "list", "--after", "org_never_made");
        Assert.Equal(ExitCodes.ApiError, unknown.ExitCode);
        Assert.Contains("(invalid_parameter) [HTTP 400]", unknown.Stderr);
    }

    [Fact]
    public async Task UsersGetDisableEnable_ShowTheUsersStatus()
    {
        var (orgId, userId) = await OrgAndUserAsync();
        Assert.Equal(orgId, (await JsonAsync("users", "get", userId, "--json")).GetProperty("org_id").GetString());

        var disable = await RunOkAsync("users", "disable", userId);
        Assert.Contains($"User {userId} disabled.", disable.Stdout);
        Assert.Contains("disabled 20", disable.Stdout);
        Assert.NotEqual(JsonValueKind.Null, (await JsonAsync("users", "get", userId, "--json")).GetProperty("disabled_at").ValueKind);

        var enable = await RunOkAsync("users", "enable", userId);
        Assert.Contains($"User {userId} enabled.", enable.Stdout);
        Assert.Contains("active", enable.Stdout);
        Assert.Equal(JsonValueKind.Null, (await JsonAsync("users", "get", userId, "--json")).GetProperty("disabled_at").ValueKind);
        Assert.Contains("(not_found) [HTTP 404]", (await RunAsync("users", "disable", "usr_never_made")).Stderr);
    }

    [Fact]
    public async Task KeysRotate_PrintsTheNewSecretOnce_AndWhenTheOldKeyStops()
    {
        var (orgId, userId) = await OrgAndUserAsync();
        var keyId = (await JsonAsync("keys", "create", "--org", orgId, "--user", userId, "--model", $"{Model}:concurrency=2,hours=1", "--json"))
            .GetProperty("id").GetString()!;

        var rotated = await RunOkAsync("keys", "rotate", keyId, "--overlap", "2h");
        Assert.Contains("Store this key now: it cannot be shown again.", rotated.Stdout);
        Assert.Contains($"Key {keyId} keeps working until 20", rotated.Stdout);
        var shown = await JsonAsync("keys", "show", keyId, "--json");
        Assert.Equal("expiring", shown.GetProperty("status").GetString());
        var expires = shown.GetProperty("expires_at").GetDateTimeOffset();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(2));
        Assert.Contains("expires 20", (await RunOkAsync("keys", "show", keyId)).Stdout);

        var json = await JsonAsync("keys", "rotate", keyId, "--overlap", "0s", "--json");
        Assert.StartsWith("tgk_", json.GetProperty("key").GetProperty("key").GetString());
        Assert.Equal("revoked", json.GetProperty("replaced").GetProperty("status").GetString());
        var again = await RunAsync("keys", "rotate", keyId);
        Assert.Equal(ExitCodes.ApiError, again.ExitCode);
        Assert.Contains("(key_not_rotatable) [HTTP 409]", again.Stderr);
        Assert.Equal(ExitCodes.UsageError, (await RunAsync("keys", "rotate", keyId, "--overlap", "soon")).ExitCode);
        Assert.Equal(3, (await JsonAsync("keys", "list", "--org", orgId, "--all", "--json")).GetArrayLength());
    }

    [Fact]
    public async Task UsageByKeyAndByUser_PrintWhatWasCharged()
    {
        var (orgId, userId) = await OrgAndUserAsync();
        var keyId = (await JsonAsync("keys", "create", "--org", orgId, "--user", userId, "--model", $"{Model}:concurrency=2,hours=1", "--json"))
            .GetProperty("id").GetString()!;

        var byKey = await JsonAsync("usage", "--key", keyId, "--json");
        Assert.Equal((keyId, userId, 0L), (byKey.GetProperty("key_id").GetString(), byKey.GetProperty("user_id").GetString(), byKey.GetProperty("used_ms").GetInt64()));
        var byUser = await JsonAsync("usage", "--user", userId, "--month", "2025-01", "--json");
        Assert.Equal(("2025-01", JsonValueKind.Null), (byUser.GetProperty("month").GetString(), byUser.GetProperty("key_id").ValueKind));
        var table = await RunOkAsync("usage", "--user", userId);
        Assert.Contains($"User {userId} (organization {orgId})", table.Stdout);
        Assert.Contains("total", table.Stdout);

        Assert.Equal(ExitCodes.UsageError, (await RunAsync("usage", "--key", keyId, "--user", userId)).ExitCode);
        Assert.Equal(ExitCodes.UsageError, (await RunAsync("usage")).ExitCode);
    }

    [Fact]
    public async Task AdminTokens_CreateListRevoke_AndAnOrganizationTokenIsRefusedElsewhere()
    {
        var (orgId, userId) = await OrgAndUserAsync();
        var (otherOrg, _) = await OrgAndUserAsync();
        var created = await JsonAsync("admin-tokens", "create", "--name", "console", "--org", orgId, "--json");
        var token = created.GetProperty("token").GetString()!;
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal(orgId, created.GetProperty("org_id").GetString());

        var list = await RunOkAsync("admin-tokens", "list");
        Assert.Contains(id, list.Stdout);
        Assert.Contains(orgId, list.Stdout);
        Assert.DoesNotContain(token, list.Stdout + (await RunOkAsync("admin-tokens", "list", "--json")).Stdout);

        var mine = await RunAsync("users", "list", "--org", orgId, "--admin-token", token);
        Assert.True(mine.ExitCode == ExitCodes.Ok, mine.ToString());
        Assert.Contains(userId, mine.Stdout);
        var elsewhere = await RunAsync("users", "list", "--org", otherOrg, "--admin-token", token);
        Assert.Equal(ExitCodes.ApiError, elsewhere.ExitCode);
        Assert.Contains("(forbidden) [HTTP 403]", elsewhere.Stderr);

        Assert.Contains($"Admin token {id} revoked.", (await RunOkAsync("admin-tokens", "revoke", id)).Stdout);
        Assert.Contains("(invalid_admin_token) [HTTP 401]", (await RunAsync("users", "list", "--org", orgId, "--admin-token", token)).Stderr);

        var operatorToken = (await JsonAsync("admin-tokens", "create", "--json")).GetProperty("token").GetString()!;
        Assert.Equal(ExitCodes.Ok, (await RunAsync("orgs", "list", "--admin-token", operatorToken)).ExitCode);
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
