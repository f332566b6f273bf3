using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Identity;
using Tollgate.Infrastructure;

namespace Tollgate.Admin;

/// <summary>
/// The Admin API's completeness on a real server: paged lists and get-by-id, disabling a user, rotating a key with an
/// overlap (on a fake clock, across a restart), usage per key and per user, admin token records and their scope.
/// </summary>
public sealed class AdminCompletenessTests : IAsyncLifetime
{
    private const string Batch = "velma-2-stt-batch";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 0, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TollgateServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Admin(string? token = TollgateServer.AdminToken) => _server.CreateAdminClient(token);

    private static async Task<JsonObject> SendAsync(HttpClient client, HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
    }

    private static Task<JsonObject> GetAsync(HttpClient client, string path, HttpStatusCode expected = HttpStatusCode.OK) =>
        SendAsync(client, HttpMethod.Get, path, null, expected);

    private static Task<JsonObject> PostAsync(HttpClient client, string path, object? body, HttpStatusCode expected) =>
        SendAsync(client, HttpMethod.Post, path, body, expected);

    /// <summary>The Dubbing API's cheapest authenticated call, to see whether a key works (and why not).</summary>
    private async Task<(HttpStatusCode Status, string? Code, string? Detail)> CallWithAsync(string key)
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add("Authorization", "Api-Key " + key);
        using var response = await client.GetAsync("v1/me");
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return (response.StatusCode, null, null);
        }
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, body["code"]?.GetValue<string>(), body["detail"]?.GetValue<string>());
    }

    private async Task<HttpStatusCode> UploadAsync(string key)
    {
        using var client = _server.CreateClient(key);
        using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
        using var response = await client.PostAsync($"api/{Batch}", content);
        return response.StatusCode;
    }

    private static List<string> Ids(JsonObject page) => [.. page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>())];

    [Fact]
    public async Task Organizations_ArePagedOldestFirst_WithANextCursor_UntilTheLastPage()
    {
        using var admin = Admin();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await PostAsync(admin, "admin/orgs", new { name = $"org {i}" }, HttpStatusCode.Created))["id"]!.GetValue<string>());
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var first = await GetAsync(admin, "admin/orgs?limit=2");
        Assert.Equal(created[..2], Ids(first));
        Assert.Equal(created[1], first["next"]!.GetValue<string>());
        var second = await GetAsync(admin, $"admin/orgs?limit=2&after={first["next"]}");
        Assert.Equal(created[2..4], Ids(second));
        var last = await GetAsync(admin, $"admin/orgs?limit=2&after={second["next"]}");
        Assert.Equal(created[4..], Ids(last));
        Assert.Null(last["next"]);
        var everything = await GetAsync(admin, "admin/orgs");
        Assert.Equal(created, Ids(everything));
        Assert.Null(everything["next"]);

        var one = await GetAsync(admin, $"admin/orgs/{created[3]}");
        Assert.Equal("org 3", one["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("admin/orgs?limit=0", "limit")]
    [InlineData("admin/orgs?limit=1001", "limit")]
    [InlineData("admin/orgs?limit=ten", "limit")]
    [InlineData("admin/orgs?limit=-1", "limit")]
    [InlineData("admin/orgs?after=org_never_made", "after")]
    public async Task BadPagingParameters_Are400InvalidParameter_NamingTheParameter(string path, string parameter)
    {
        using var admin = Admin();
        var body = await GetAsync(admin, path, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_parameter", body["code"]!.GetValue<string>());
        Assert.Contains(parameter + "=", body["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task UsersAndKeys_ArePaged_AndAUserIsFoundByIdAloneOrWithinItsOrganization()
    {
        var key = await _server.CreateKeyAsync(Batch);
        using var admin = Admin();
        var users = new List<string> { key.UserId };
        for (var i = 0; i < 2; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            users.Add((await PostAsync(admin, $"admin/orgs/{key.OrgId}/users", new { name = $"u{i}" }, HttpStatusCode.Created))["id"]!.GetValue<string>());
        }
        var keys = new List<string> { key.KeyId };
        _time.Advance(TimeSpan.FromSeconds(1));
        keys.Add((await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (1, 1) }, key.OrgId, users[1])).KeyId);

        var page = await GetAsync(admin, $"admin/orgs/{key.OrgId}/users?limit=2");
        Assert.Equal(users[..2], Ids(page));
        Assert.Equal(users[2..], Ids(await GetAsync(admin, $"admin/orgs/{key.OrgId}/users?limit=2&after={page["next"]}")));
        var keyPage = await GetAsync(admin, $"admin/orgs/{key.OrgId}/keys?limit=1");
        Assert.Equal(keys[..1], Ids(keyPage));
        Assert.Equal(keys[1..], Ids(await GetAsync(admin, $"admin/orgs/{key.OrgId}/keys?limit=1&after={keyPage["next"]}")));
        Assert.Equal("active", (await GetAsync(admin, $"admin/orgs/{key.OrgId}/keys"))["items"]![0]!["status"]!.GetValue<string>());

        var user = await GetAsync(admin, $"admin/users/{users[2]}");
        Assert.Equal((key.OrgId, "u1"), (user["org_id"]!.GetValue<string>(), user["name"]!.GetValue<string>()));
        Assert.Null(user["disabled_at"]);
        Assert.Equal(users[2], (await GetAsync(admin, $"admin/orgs/{key.OrgId}/users/{users[2]}"))["id"]!.GetValue<string>());

        var other = await _server.CreateKeyAsync(Batch);
        Assert.Equal("not_found", (await GetAsync(admin, $"admin/orgs/{other.OrgId}/users/{users[2]}", HttpStatusCode.NotFound))["code"]!.GetValue<string>());
        await GetAsync(admin, "admin/users/usr_never_made", HttpStatusCode.NotFound);
        // A cursor from another organization's list is not a cursor of this one.
        await GetAsync(admin, $"admin/orgs/{other.OrgId}/users?after={users[0]}", HttpStatusCode.BadRequest);
        await GetAsync(admin, $"admin/orgs/{other.OrgId}/keys?after={keys[0]}", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ADisabledUsersKeys_AreRefused401UserDisabled_AndWorkAgainOnceEnabled()
    {
        var key = await _server.CreateKeyAsync(Batch);
        var second = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (1, 1) }, key.OrgId, key.UserId);
        var bystander = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (1, 1) }, key.OrgId);
        Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(key.Secret)).Status); // cached on this node now
        using var admin = Admin();

        var disabled = await PostAsync(admin, $"admin/users/{key.UserId}/disable", null, HttpStatusCode.OK);
        Assert.Equal(_time.GetUtcNow(), DateTimeOffset.Parse(disabled["disabled_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        foreach (var secret in new[] { key.Secret, second.Secret })
        {
            var (status, code, detail) = await CallWithAsync(secret);
            Assert.Equal((HttpStatusCode.Unauthorized, "user_disabled"), (status, code));
            Assert.Contains("disabled", detail);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await UploadAsync(key.Secret));
        Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(bystander.Secret)).Status);
        Assert.NotNull((await GetAsync(admin, $"admin/users/{key.UserId}"))["disabled_at"]);

        var enabled = await PostAsync(admin, $"admin/users/{key.UserId}/enable", null, HttpStatusCode.OK);
        Assert.Null(enabled["disabled_at"]);
        Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(key.Secret)).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(second.Secret)).Status);
        await PostAsync(admin, "admin/users/usr_never_made/disable", null, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ARotatedKey_WorksBesideItsReplacementForTheOverlap_ToTheMillisecond_AcrossARestart_ThenIsRefused()
    {
        var old = await _server.CreateKeyAsync(Batch, concurrency: 3, hours: 2);
        using (var admin = Admin())
        {
            var rotated = await PostAsync(admin, $"admin/keys/{old.KeyId}/rotate", new { overlap = "1h" }, HttpStatusCode.Created);
            var fresh = rotated["key"]!.AsObject();
            var secret = fresh["key"]!.GetValue<string>();
            Assert.NotEqual(old.KeyId, fresh["id"]!.GetValue<string>());
            Assert.Equal((old.OrgId, old.UserId), (fresh["org_id"]!.GetValue<string>(), fresh["user_id"]!.GetValue<string>()));
            Assert.Equal(3, fresh["models"]![Batch]!["concurrency"]!.GetValue<int>());
            Assert.Equal(2.0, fresh["models"]![Batch]!["monthly_audio_hours"]!.GetValue<double>());
            var replaced = rotated["replaced"]!.AsObject();
            Assert.Equal(old.KeyId, replaced["id"]!.GetValue<string>());
            Assert.Equal("expiring", replaced["status"]!.GetValue<string>());
            Assert.Equal(_time.GetUtcNow().AddHours(1), DateTimeOffset.Parse(replaced["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
            Assert.DoesNotContain(secret, (await GetAsync(admin, $"admin/orgs/{old.OrgId}/keys")).ToJsonString());

            Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(old.Secret)).Status);
            Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(secret)).Status);

            // The expiry is stored with the key: a restart changes nothing.
            _time.Advance(TimeSpan.FromMinutes(59));
            _server = await _server.RestartAsync();
            Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(old.Secret)).Status);
            _time.Advance(TimeSpan.FromSeconds(59.999));
            Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(old.Secret)).Status);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            var (status, code, detail) = await CallWithAsync(old.Secret);
            Assert.Equal((HttpStatusCode.Unauthorized, "expired_api_key"), (status, code));
            Assert.Contains("rotated", detail);
            Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(secret)).Status);
        }
        using var after = Admin();
        Assert.Equal("expired", (await GetAsync(after, $"admin/keys/{old.KeyId}"))["status"]!.GetValue<string>());
        var refused = await PostAsync(after, $"admin/keys/{old.KeyId}/rotate", null, HttpStatusCode.Conflict);
        Assert.Equal("key_not_rotatable", refused["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rotation_DefaultsTo24Hours_ZeroRevokesAtOnce_AndABadOverlapIs422StoringNothing()
    {
        var key = await _server.CreateKeyAsync(Batch);
        using var admin = Admin();
        var byDefault = await PostAsync(admin, $"admin/keys/{key.KeyId}/rotate", null, HttpStatusCode.Created);
        Assert.Equal(_time.GetUtcNow().AddHours(24),
            DateTimeOffset.Parse(byDefault["replaced"]!["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        var newer = byDefault["key"]!.AsObject();

        foreach (var bad in new object[] { new { overlap = "forever" }, new { overlap = "91d" }, new { overlap = "-1h" } })
        {
            Assert.Equal("validation_failed", (await PostAsync(admin, $"admin/keys/{newer["id"]}/rotate", bad, HttpStatusCode.UnprocessableEntity))["code"]!.GetValue<string>());
        }
        Assert.Equal("invalid_json", (await PostAsync(admin, $"admin/keys/{newer["id"]}/rotate", new { overlap = 3600 }, HttpStatusCode.BadRequest))["code"]!.GetValue<string>());
        Assert.Equal("invalid_json", (await PostAsync(admin, $"admin/keys/{newer["id"]}/rotate", new { window = "1h" }, HttpStatusCode.BadRequest))["code"]!.GetValue<string>());
        Assert.Equal(2, (await GetAsync(admin, $"admin/orgs/{key.OrgId}/keys"))["items"]!.AsArray().Count);

        var now = await PostAsync(admin, $"admin/keys/{newer["id"]}/rotate", new { overlap = "0s" }, HttpStatusCode.Created);
        Assert.Equal("revoked", now["replaced"]!["status"]!.GetValue<string>());
        Assert.Equal("revoked_api_key", (await CallWithAsync(newer["key"]!.GetValue<string>())).Code);
        Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(now["key"]!["key"]!.GetValue<string>())).Status);
        await PostAsync(admin, "admin/keys/key_never_made/rotate", null, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UsageByKeyAndByUser_IsWhatTheLedgerCharged_AndAddsUpToTheOrganizationsReport()
    {
        var first = await _server.CreateKeyAsync(Batch, concurrency: 5, hours: 1);
        var second = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (5, 1) }, first.OrgId, first.UserId);
        var other = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (5, 1) }, first.OrgId);
        Assert.Equal(HttpStatusCode.OK, await UploadAsync(first.Secret));
        Assert.Equal(HttpStatusCode.OK, await UploadAsync(first.Secret));
        Assert.Equal(HttpStatusCode.OK, await UploadAsync(second.Secret));
        Assert.Equal(HttpStatusCode.OK, await UploadAsync(other.Secret));
        using var admin = Admin();

        var byKey = await GetAsync(admin, $"admin/keys/{first.KeyId}/usage");
        Assert.Equal((first.OrgId, first.UserId, first.KeyId, "2026-05"),
            (byKey["org_id"]!.GetValue<string>(), byKey["user_id"]!.GetValue<string>(), byKey["key_id"]!.GetValue<string>(), byKey["month"]!.GetValue<string>()));
        Assert.Equal(6_000, byKey["used_ms"]!.GetValue<long>());
        Assert.Equal(2, byKey["charges"]!.GetValue<long>());
        var model = Assert.Single(byKey["models"]!.AsArray())!;
        Assert.Equal((Batch, 6_000L), (model["model"]!.GetValue<string>(), model["used_ms"]!.GetValue<long>()));

        var byUser = await GetAsync(admin, $"admin/users/{first.UserId}/usage?month=2026-05");
        Assert.Equal(9_000, byUser["used_ms"]!.GetValue<long>());
        Assert.Null(byUser["key_id"]);
        var otherUser = await GetAsync(admin, $"admin/users/{other.UserId}/usage");
        Assert.Equal(3_000, otherUser["used_ms"]!.GetValue<long>());
        Assert.Equal(byUser["used_ms"]!.GetValue<long>() + otherUser["used_ms"]!.GetValue<long>(),
            (await Usage.ForModelAsync(_server, first.OrgId, Batch))["used_ms"]!.GetValue<long>());

        Assert.Equal(0, (await GetAsync(admin, $"admin/keys/{first.KeyId}/usage?month=2026-04"))["used_ms"]!.GetValue<long>());
        Assert.Equal("invalid_parameter", (await GetAsync(admin, $"admin/keys/{first.KeyId}/usage?month=May", HttpStatusCode.BadRequest))["code"]!.GetValue<string>());
        await GetAsync(admin, "admin/keys/key_never_made/usage", HttpStatusCode.NotFound);
        await GetAsync(admin, "admin/users/usr_never_made/usage", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AdminTokens_AreRecordsStoredHashed_ShownOnce_Listed_AndRevokedFromTheNextCall()
    {
        using var admin = Admin();
        var created = await PostAsync(admin, "admin/tokens", new { name = "ops" }, HttpStatusCode.Created);
        var secret = created["token"]!.GetValue<string>();
        var id = created["id"]!.GetValue<string>();
        Assert.Matches("^tga_[0-9A-Za-z]{40}$", secret);
        Assert.StartsWith(created["prefix"]!.GetValue<string>(), secret);
        Assert.Null(created["org_id"]);

        var stored = await _server.Services.GetRequiredService<IAdminTokenStore>().GetAsync(id);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), stored!.Hash.ToHex());
        var list = await GetAsync(admin, "admin/tokens");
        Assert.DoesNotContain(secret, list.ToJsonString());
        Assert.Contains(id, Ids(list));

        // An operator token record reaches every call.
        using var ops = Admin(secret);
        var org = await PostAsync(ops, "admin/orgs", new { name = "made by ops" }, HttpStatusCode.Created);
        await GetAsync(ops, "admin/orgs");
        await GetAsync(ops, "admin/tokens");

        await SendAsync(admin, HttpMethod.Delete, $"admin/tokens/{id}", null, HttpStatusCode.NoContent);
        Assert.Equal("invalid_admin_token", (await GetAsync(ops, $"admin/orgs/{org["id"]}", HttpStatusCode.Unauthorized))["code"]!.GetValue<string>());
        Assert.NotNull((await GetAsync(admin, "admin/tokens"))["items"]!.AsArray().Single(t => t!["id"]!.GetValue<string>() == id)!["revoked_at"]);
        // The configured token is not a record and always works: it is how admin access is recovered.
        await GetAsync(admin, "admin/orgs");
        await SendAsync(admin, HttpMethod.Delete, "admin/tokens/atk_never_made", null, HttpStatusCode.NotFound);
        await PostAsync(admin, "admin/tokens", new { org_id = "org_never_made" }, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AnOrganizationAdminToken_ReachesItsOwnOrganization_Only()
    {
        var mine = await _server.CreateKeyAsync(Batch);
        var theirs = await _server.CreateKeyAsync(Batch);
        using var admin = Admin();
        var secret = (await PostAsync(admin, "admin/tokens", new { name = "console", org_id = mine.OrgId }, HttpStatusCode.Created))["token"]!.GetValue<string>();
        using var orgAdmin = Admin(secret);

        // Its own organization: everything.
        await GetAsync(orgAdmin, $"admin/orgs/{mine.OrgId}");
        var user = await PostAsync(orgAdmin, $"admin/orgs/{mine.OrgId}/users", new { name = "new" }, HttpStatusCode.Created);
        await GetAsync(orgAdmin, $"admin/orgs/{mine.OrgId}/users");
        await GetAsync(orgAdmin, $"admin/orgs/{mine.OrgId}/keys");
        await GetAsync(orgAdmin, $"admin/orgs/{mine.OrgId}/usage");
        await GetAsync(orgAdmin, $"admin/keys/{mine.KeyId}");
        await GetAsync(orgAdmin, $"admin/keys/{mine.KeyId}/usage");
        await GetAsync(orgAdmin, $"admin/users/{user["id"]}");
        await PostAsync(orgAdmin, $"admin/users/{user["id"]}/disable", null, HttpStatusCode.OK);

        // Another organization's calls: 403; its keys and users read as missing (404), as an unknown id does.
        foreach (var path in new[] { $"admin/orgs/{theirs.OrgId}", $"admin/orgs/{theirs.OrgId}/keys", $"admin/orgs/{theirs.OrgId}/users", $"admin/orgs/{theirs.OrgId}/usage" })
        {
            var refused = await GetAsync(orgAdmin, path, HttpStatusCode.Forbidden);
            Assert.Equal("forbidden", refused["code"]!.GetValue<string>());
            Assert.Contains(mine.OrgId, refused["detail"]!.GetValue<string>());
        }
        await PostAsync(orgAdmin, $"admin/orgs/{theirs.OrgId}/users", new { name = "intruder" }, HttpStatusCode.Forbidden);
        await GetAsync(orgAdmin, $"admin/keys/{theirs.KeyId}", HttpStatusCode.NotFound);
        await SendAsync(orgAdmin, HttpMethod.Delete, $"admin/keys/{theirs.KeyId}", null, HttpStatusCode.NotFound);
        await PostAsync(orgAdmin, $"admin/keys/{theirs.KeyId}/rotate", null, HttpStatusCode.NotFound);
        await GetAsync(orgAdmin, $"admin/keys/{theirs.KeyId}/usage", HttpStatusCode.NotFound);
        await GetAsync(orgAdmin, $"admin/users/{theirs.UserId}", HttpStatusCode.NotFound);
        await PostAsync(orgAdmin, $"admin/users/{theirs.UserId}/disable", null, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await CallWithAsync(theirs.Secret)).Status);
        Assert.Null((await GetAsync(admin, $"admin/keys/{theirs.KeyId}"))["revoked_at"]);

        // Operator calls: 403.
        await GetAsync(orgAdmin, "admin/orgs", HttpStatusCode.Forbidden);
        await PostAsync(orgAdmin, "admin/orgs", new { name = "mine too" }, HttpStatusCode.Forbidden);
        await GetAsync(orgAdmin, "admin/tokens", HttpStatusCode.Forbidden);
        await PostAsync(orgAdmin, "admin/tokens", new { name = "escalate" }, HttpStatusCode.Forbidden);
    }
}
