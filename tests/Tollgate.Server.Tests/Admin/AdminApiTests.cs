using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Admin;

public sealed class AdminApiTests : IAsyncLifetime
{
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-wrong-token")]
    public async Task AdminCall_WithoutTheToken_Is401InOurErrorShape(string? token)
    {
        using var client = _server.CreateAdminClient(token);
        using var response = await client.GetAsync("admin/orgs");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.Equal("invalid_admin_token", body["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["detail"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CreateOrgUserKey_ThenListAndInspect_ShowsEverythingButTheSecret()
    {
        using var admin = _server.CreateAdminClient();
        var org = await ReadObjectAsync(await admin.PostAsJsonAsync("admin/orgs", new { name = "Acme" }), HttpStatusCode.Created);
        var orgId = org["id"]!.GetValue<string>();
        Assert.Equal("Acme", org["name"]!.GetValue<string>());

        var user = await ReadObjectAsync(await admin.PostAsJsonAsync($"admin/orgs/{orgId}/users", new { name = "ana" }), HttpStatusCode.Created);
        var userId = user["id"]!.GetValue<string>();
        Assert.Equal(orgId, user["org_id"]!.GetValue<string>());

        var created = await ReadObjectAsync(await admin.PostAsJsonAsync($"admin/orgs/{orgId}/users/{userId}/keys", new
        {
            name = "ci",
            models = new Dictionary<string, object>
            {
                ["velma-2-stt-batch"] = new { concurrency = 5, monthly_audio_hours = 10.0 },
                ["velma-2-emotion-batch"] = new { concurrency = 2, monthly_audio_hours = 0.5 },
            },
        }), HttpStatusCode.Created);
        var secret = created["key"]!.GetValue<string>();
        var keyId = created["id"]!.GetValue<string>();
        Assert.StartsWith("tgk_", secret);
        Assert.StartsWith(created["prefix"]!.GetValue<string>(), secret);
        Assert.Equal(5, created["models"]!["velma-2-stt-batch"]!["concurrency"]!.GetValue<int>());
        Assert.Equal(0.5, created["models"]!["velma-2-emotion-batch"]!["monthly_audio_hours"]!.GetValue<double>());

        var list = JsonNode.Parse(await admin.GetStringAsync($"admin/orgs/{orgId}/keys"))!["items"]!.AsArray();
        var listed = Assert.Single(list)!.AsObject();
        Assert.Equal(keyId, listed["id"]!.GetValue<string>());
        Assert.Null(listed["key"]);
        Assert.DoesNotContain(secret, list.ToJsonString());

        var inspected = JsonNode.Parse(await admin.GetStringAsync($"admin/keys/{keyId}"))!.AsObject();
        Assert.Equal(orgId, inspected["org_id"]!.GetValue<string>());
        Assert.Equal(userId, inspected["user_id"]!.GetValue<string>());
        Assert.NotNull(inspected["created_at"]);
        Assert.Null(inspected["last_used_at"]);
        Assert.Null(inspected["revoked_at"]);
        Assert.Equal(2, inspected["models"]!.AsObject().Count);
    }

    [Fact]
    public async Task CreateKey_WithBadEntitlements_Is422ListingEveryProblem_AndStoresNothing()
    {
        var key = await _server.CreateKeyAsync("velma-2-stt-batch");
        using var admin = _server.CreateAdminClient();
        using var response = await admin.PostAsJsonAsync($"admin/orgs/{key.OrgId}/users/{key.UserId}/keys", new
        {
            models = new Dictionary<string, object>
            {
                ["velma-2-nonexistent-batch"] = new { concurrency = 1, monthly_audio_hours = 1 },
                ["velma-2-stt-batch"] = new { concurrency = 0, monthly_audio_hours = -1 },
            },
        });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var detail = (await ReadObjectAsync(response))["detail"]!.GetValue<string>();
        Assert.Contains("velma-2-nonexistent-batch", detail);
        Assert.Contains("concurrency", detail);
        Assert.Contains("monthly_audio_hours", detail);
        var keys = JsonNode.Parse(await admin.GetStringAsync($"admin/orgs/{key.OrgId}/keys"))!["items"]!.AsArray();
        Assert.Single(keys);
    }

    [Fact]
    public async Task MalformedJson_Is400_AndUnknownOrg_Is404()
    {
        using var admin = _server.CreateAdminClient();
        using var bad = await admin.PostAsync("admin/orgs", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("invalid_json", (await ReadObjectAsync(bad))["code"]!.GetValue<string>());

        using var missing = await admin.PostAsJsonAsync("admin/orgs/org_nope/users", new { name = "x" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("not_found", (await ReadObjectAsync(missing))["code"]!.GetValue<string>());

        var orgs = JsonNode.Parse(await admin.GetStringAsync("admin/orgs"))!["items"]!.AsArray();
        Assert.Empty(orgs);
    }

    [Fact]
    public async Task KeysOrgsAndUsers_SurviveARestart()
    {
        var key = await _server.CreateKeyAsync("velma-2-stt-batch");
        _server = await _server.RestartAsync();
        using var admin = _server.CreateAdminClient();
        var inspected = JsonNode.Parse(await admin.GetStringAsync($"admin/keys/{key.KeyId}"))!.AsObject();
        Assert.Equal(key.OrgId, inspected["org_id"]!.GetValue<string>());
        using var client = _server.CreateClient(key.Secret);
        using var response = await client.GetAsync("api/velma-2-batch/list-presets");
        // The key is known after the restart: entitled to stt-batch only, so list-presets of velma-2-batch is 403, not 401.
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    internal static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response, HttpStatusCode? expected = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (expected is { } status)
        {
            Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        }
        return JsonNode.Parse(text)!.AsObject();
    }
}
