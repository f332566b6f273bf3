using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;

namespace Tollgate.Admin;

/// <summary>
/// The console's read models through the Admin API, on a real server after real calls: usage per day, live state,
/// rejections, jobs and dubs of an organization.
/// </summary>
public sealed class AdminInsightsTests : IAsyncLifetime
{
    private const string Stt = "velma-2-stt-batch";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 20, 23, 0, 0, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TollgateServer.StartAsync(
            // The Models surface carries two of the default rules here (it carries none by default).
            new Dictionary<string, string?> { ["Tollgate:RateLimits:Surfaces:Models"] = "global,unsafe-minute" },
            services: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task PostAsync(TestKey key, string model, double seconds, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var client = _server.CreateClient(key.Secret);
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.Wav(TestAudio.Samples(16_000, seconds, (0.1, seconds - 0.1)), 16_000)), "upload_file", "clip.wav" },
        };
        using var response = await client.PostAsync($"api/{model}", content);
        Assert.True(response.StatusCode == expected, $"{model} {seconds} s → {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<JsonObject> GetAsync(string path, HttpStatusCode expected = HttpStatusCode.OK, string? token = TollgateServer.AdminToken)
    {
        using var admin = _server.CreateAdminClient(token);
        using var response = await admin.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {path} → {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task DailyUsage_HasEveryDayOfTheMonth_ChargesOnTheirUtcDay_AndAddsUpToTheUsageReport()
    {
        var key = await _server.CreateKeyAsync(Stt, concurrency: 3, hours: 2);
        await PostAsync(key, Stt, 1.5);
        await PostAsync(key, Stt, 0.75);
        _time.Advance(TimeSpan.FromHours(2)); // 2026-05-21 01:00 UTC
        await PostAsync(key, Stt, 2.25);

        var daily = await GetAsync($"admin/orgs/{key.OrgId}/usage/daily");
        Assert.Equal("2026-05", daily["month"]!.GetValue<string>());
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), daily["reset_at"]!.GetValue<DateTimeOffset>());
        var model = Assert.Single(daily["models"]!.AsArray())!.AsObject();
        Assert.Equal(Stt, model["model"]!.GetValue<string>());
        Assert.Equal(2 * 3_600_000L, model["limit_ms"]!.GetValue<long>());
        Assert.Equal(2.0, model["limit_hours"]!.GetValue<double>());
        var days = model["days"]!.AsArray().Select(d => d!.AsObject()).ToList();
        Assert.Equal(31, days.Count);
        Assert.Equal(Enumerable.Range(1, 31).Select(d => $"2026-05-{d:D2}"), days.Select(d => d["date"]!.GetValue<string>()));
        var perDay = days.ToDictionary(d => d["date"]!.GetValue<string>(), d => d["used_ms"]!.GetValue<long>());
        Assert.True(perDay["2026-05-20"] > 0 && perDay["2026-05-21"] > 0);
        Assert.Equal(0, perDay.Where(d => d.Key is not ("2026-05-20" or "2026-05-21")).Sum(d => d.Value));
        Assert.Equal(model["used_ms"]!.GetValue<long>(), perDay.Values.Sum());

        var report = await GetAsync($"admin/orgs/{key.OrgId}/usage");
        Assert.Equal(report["models"]![0]!["used_ms"]!.GetValue<long>(), model["used_ms"]!.GetValue<long>());

        // A past month: every day, all zero; April has 30.
        var april = await GetAsync($"admin/orgs/{key.OrgId}/usage/daily?month=2026-04");
        Assert.Equal("2026-05-01T00:00:00+00:00", april["reset_at"]!.GetValue<DateTimeOffset>().ToString("yyyy-MM-ddTHH:mm:sszzz"));
        var aprilDays = april["models"]![0]!["days"]!.AsArray();
        Assert.Equal(30, aprilDays.Count);
        Assert.All(aprilDays, d => Assert.Equal(0, d!["used_ms"]!.GetValue<long>()));
    }

    [Fact]
    public async Task DailyUsage_RefusesABadMonthAndAnUnknownOrganization_AndAnotherOrganizationsToken()
    {
        var key = await _server.CreateKeyAsync(Stt);
        var bad = await GetAsync($"admin/orgs/{key.OrgId}/usage/daily?month=2026-13", HttpStatusCode.BadRequest);
        Assert.Equal("invalid_parameter", bad["code"]!.GetValue<string>());
        Assert.Contains("YYYY-MM", bad["detail"]!.GetValue<string>());
        Assert.Equal("not_found", (await GetAsync("admin/orgs/org_nope/usage/daily", HttpStatusCode.NotFound))["code"]!.GetValue<string>());

        var other = await _server.CreateKeyAsync(Stt);
        var token = (await CreateOrgTokenAsync(other.OrgId));
        Assert.Equal("forbidden", (await GetAsync($"admin/orgs/{key.OrgId}/usage/daily", HttpStatusCode.Forbidden, token))["code"]!.GetValue<string>());
        await GetAsync($"admin/orgs/{other.OrgId}/usage/daily", HttpStatusCode.OK, token);
    }

    [Fact]
    public async Task Live_ShowsRequestsInFlightAgainstTheLimit_AndEachUsersWindows_WithoutCountingARequest()
    {
        var key = await _server.CreateKeyAsync(Stt, concurrency: 3, hours: 2);
        var idle = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Stt] = (1, 1) }, orgId: key.OrgId);
        using var client = _server.CreateClient(key.Secret);
        var file = TestAudio.SpeechLikeWav();
        var gate = new GatedUpload();
        var uploads = new[] { client.SendAsync(gate.Request(Stt, file)), client.SendAsync(gate.Request(Stt, file)) };
        await gate.BodyStarted;
        var live = await Eventually.WaitForAsync(async () =>
        {
            var state = await GetAsync($"admin/orgs/{key.OrgId}/live");
            return state["models"]![0]!["in_flight"]!.GetValue<int>() == 2 ? state : null;
        });
        var model = Assert.Single(live["models"]!.AsArray())!;
        Assert.Equal(Stt, model["model"]!.GetValue<string>());
        Assert.Equal(3, model["concurrency_limit"]!.GetValue<int>());
        Assert.False(live["more_users"]!.GetValue<bool>());
        var users = live["users"]!.AsArray().ToDictionary(u => u!["user_id"]!.GetValue<string>(), u => u!["windows"]!.AsArray());
        Assert.Equal(new[] { idle.UserId, key.UserId }.Order(StringComparer.Ordinal), users.Keys.Order(StringComparer.Ordinal));
        Assert.NotEmpty(users[key.UserId]);
        // The two uploads (POST: unsafe) are counted by the rules that count unsafe requests; the idle user has none.
        // Every rule some surface carries (Dubbing carries all four); the uploads counted in the two the Models surface carries.
        Assert.Equal(
            new Dictionary<string, long> { ["global"] = 2, ["unsafe-minute"] = 2, ["safe"] = 0, ["unsafe-hour"] = 0 },
            users[key.UserId].ToDictionary(w => w!["rule"]!.GetValue<string>(), w => w!["used"]!.GetValue<long>()));
        Assert.All(users[idle.UserId], w => Assert.Equal(0, w!["used"]!.GetValue<long>()));
        foreach (var w in users[key.UserId])
        {
            Assert.Equal(w!["limit"]!.GetValue<long>() - w["used"]!.GetValue<long>(), w["remaining"]!.GetValue<long>());
            Assert.True(w["reset_at"]!.GetValue<DateTimeOffset>() > _time.GetUtcNow());
            Assert.False(string.IsNullOrEmpty(w["window"]!.GetValue<string>()));
        }

        gate.Open();
        foreach (var upload in uploads)
        {
            using var response = await upload;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var after = await GetAsync($"admin/orgs/{key.OrgId}/live");
        Assert.Equal(0, after["models"]![0]!["in_flight"]!.GetValue<int>());
        // Reading the live state counted nothing: the windows are as the two uploads left them.
        var again = (await GetAsync($"admin/orgs/{key.OrgId}/live"))["users"]!.AsArray().Single(u => u!["user_id"]!.GetValue<string>() == key.UserId)!["windows"]!;
        Assert.Equal(users[key.UserId].ToJsonString(), again.ToJsonString());

        Assert.Equal("not_found", (await GetAsync("admin/orgs/org_nope/live", HttpStatusCode.NotFound))["code"]!.GetValue<string>());
        var token = await CreateOrgTokenAsync(key.OrgId);
        var other = await _server.CreateKeyAsync(Stt);
        Assert.Equal("forbidden", (await GetAsync($"admin/orgs/{other.OrgId}/live", HttpStatusCode.Forbidden, token))["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rejections_AreCountedPerOrganizationStatusAndCode_SurviveARestart_AndUnknownKeysCountUnderNoOrganization()
    {
        var key = await _server.CreateKeyAsync(Stt);
        var revoked = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Stt] = (5, 10) }, orgId: key.OrgId);
        using (var admin = _server.CreateAdminClient())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"admin/keys/{revoked.KeyId}")).StatusCode);
        }
        var unknown = Tollgate.Identity.ApiKeys.Generate();
        await PostAsync(key, "velma-2-emotion-batch", 0.5, HttpStatusCode.Forbidden);
        await PostAsync(key, "velma-2-emotion-batch", 0.5, HttpStatusCode.Forbidden);
        await PostAsync(revoked, Stt, 0.5, HttpStatusCode.Unauthorized);
        await PostAsync(new TestKey("", "", "", unknown), Stt, 0.5, HttpStatusCode.Unauthorized);
        await PostAsync(key, Stt, 0.5);

        // Counted in memory, written at shutdown: the restarted server reads them from the store.
        _server = await _server.RestartAsync();
        var counts = await GetAsync($"admin/orgs/{key.OrgId}/rejections");
        Assert.Equal(24, counts["hours"]!.GetValue<int>());
        Assert.Equal(3, counts["total"]!.GetValue<long>());
        var reasons = counts["by_reason"]!.AsArray().ToDictionary(r => (r!["status"]!.GetValue<int>(), r["code"]!.GetValue<string>()), r => r!["count"]!.GetValue<long>());
        Assert.Equal(2, reasons.Count);
        Assert.Equal(1, reasons[(401, "revoked_api_key")]);
        Assert.Equal(2, reasons.Single(r => r.Key.Item1 == 403).Value);
        var series = counts["series"]!.AsArray();
        Assert.Equal(24, series.Count);
        Assert.Equal(new DateTimeOffset(2026, 5, 20, 23, 0, 0, TimeSpan.Zero), series[^1]!["hour"]!.GetValue<DateTimeOffset>());
        Assert.Equal(new DateTimeOffset(2026, 5, 20, 0, 0, 0, TimeSpan.Zero), counts["since"]!.GetValue<DateTimeOffset>());
        Assert.Equal(3, series[^1]!["total"]!.GetValue<long>());
        Assert.Equal(0, series.Take(23).Sum(h => h!["total"]!.GetValue<long>()));

        // The unknown key: no organization, seen by the operator only.
        var none = await GetAsync("admin/rejections?hours=1");
        Assert.Null(none["org_id"]);
        Assert.Equal(1, none["by_reason"]!.AsArray().Single(r => r!["code"]!.GetValue<string>() == "unknown_api_key")!["count"]!.GetValue<long>());
        var token = await CreateOrgTokenAsync(key.OrgId);
        await GetAsync("admin/rejections", HttpStatusCode.Forbidden, token);
        await GetAsync($"admin/orgs/{key.OrgId}/rejections?hours=1", HttpStatusCode.OK, token);

        // Counts add up across writes (every node adds what it counted since its last flush).
        _time.Advance(TimeSpan.FromHours(1)); // 2026-05-21 00:00
        await PostAsync(revoked, Stt, 0.5, HttpStatusCode.Unauthorized);
        await _server.Services.GetRequiredService<Tollgate.Server.Admission.RejectionFlusher>().FlushAsync(CancellationToken.None);
        var later = await GetAsync($"admin/orgs/{key.OrgId}/rejections?hours=2");
        Assert.Equal(4, later["total"]!.GetValue<long>());
        Assert.Equal([3L, 1L], later["series"]!.AsArray().Select(h => h!["total"]!.GetValue<long>()));
        Assert.Equal(2, later["by_reason"]!.AsArray().Single(r => r!["code"]!.GetValue<string>() == "revoked_api_key")!["count"]!.GetValue<long>());

        foreach (var bad in new[] { "0", "169", "x", "-1" })
        {
            Assert.Equal("invalid_parameter", (await GetAsync($"admin/orgs/{key.OrgId}/rejections?hours={bad}", HttpStatusCode.BadRequest))["code"]!.GetValue<string>());
        }
        await GetAsync("admin/orgs/org_nope/rejections", HttpStatusCode.NotFound);
    }

    private async Task<string> CreateOrgTokenAsync(string orgId)
    {
        using var admin = _server.CreateAdminClient();
        using var response = await admin.PostAsJsonAsync("admin/tokens", new { name = "console", org_id = orgId });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["token"]!.GetValue<string>();
    }
}

/// <summary>An organization's Platform jobs and dubs through the Admin API, after real submissions.</summary>
public sealed class AdminActivityTests : IAsyncLifetime
{
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JsonObject> GetAsync(string path, HttpStatusCode expected = HttpStatusCode.OK, string? token = TollgateServer.AdminToken)
    {
        using var admin = _server.CreateAdminClient(token);
        using var response = await admin.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {path} → {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task JobsAndDubs_ListNewestFirstInPages_WithADetail_AndAnotherOrganizationsReadAsMissing()
    {
        var key = await Tollgate.Platform.PlatformClient.FullKeyAsync(_server);
        var dubKey = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { ["velma-2-batch"] = (5, 10) }, key.OrgId);
        var jobIds = new List<string>();
        using (var platform = new Tollgate.Platform.PlatformClient(_server, key))
        {
            for (var i = 0; i < 3; i++)
            {
                var (status, body) = await platform.PostJsonAsync(Tollgate.Platform.PlatformClient.Body(TestAudio.SpeechLikeWav(), finalize: i != 2, filename: $"part-{i}.wav"));
                Assert.Equal(HttpStatusCode.OK, status);
                jobIds.Add(body["job_id"]!.GetValue<string>());
            }
        }
        string dubId;
        using (var dubbing = new Tollgate.Dubbing.DubbingClient(_server, dubKey.Secret))
        {
            dubId = await dubbing.CreateDubAsync(TestAudio.SpeechLikeWav());
        }

        var first = await GetAsync($"admin/orgs/{key.OrgId}/jobs?limit=2");
        var firstIds = first["items"]!.AsArray().Select(j => j!["id"]!.GetValue<string>()).ToList();
        var second = await GetAsync($"admin/orgs/{key.OrgId}/jobs?limit=2&after={first["next"]!.GetValue<string>()}");
        Assert.Null(second["next"]);
        var all = firstIds.Concat(second["items"]!.AsArray().Select(j => j!["id"]!.GetValue<string>())).ToList();
        Assert.Equal(jobIds.Order(), all.Order());
        var listed = first["items"]!.AsArray().Concat(second["items"]!.AsArray()).Select(j => j!.AsObject()).ToList();
        Assert.True(listed.Zip(listed.Skip(1)).All(p => p.First["created_at"]!.GetValue<DateTimeOffset>() >= p.Second["created_at"]!.GetValue<DateTimeOffset>()));
        Assert.All(listed, j => Assert.Null(j["files"]));
        Assert.Equal("pending", listed.Single(j => j["id"]!.GetValue<string>() == jobIds[2])["status"]!.GetValue<string>());

        var detail = await GetAsync($"admin/orgs/{key.OrgId}/jobs/{jobIds[2]}");
        Assert.Equal(key.UserId, detail["user_id"]!.GetValue<string>());
        Assert.Equal("file", detail["submission"]!.GetValue<string>());
        var file = Assert.Single(detail["files"]!.AsArray())!;
        Assert.Equal("part-2.wav", file["filename"]!.GetValue<string>());
        Assert.Null(file["blob_key"]);

        var dubs = await GetAsync($"admin/orgs/{key.OrgId}/dubs");
        var dub = Assert.Single(dubs["items"]!.AsArray())!;
        Assert.Equal(dubId, dub["id"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(dub["status"]!.GetValue<string>()));
        Assert.Equal(dubId, (await GetAsync($"admin/orgs/{key.OrgId}/dubs/{dubId}"))["id"]!.GetValue<string>());

        // Another organization: its token is refused on this one, and this one's jobs and dubs are not found under it.
        var other = await _server.CreateKeyAsync("velma-2-stt-batch");
        Assert.Empty((await GetAsync($"admin/orgs/{other.OrgId}/jobs"))["items"]!.AsArray());
        Assert.Equal("not_found", (await GetAsync($"admin/orgs/{other.OrgId}/jobs/{jobIds[0]}", HttpStatusCode.NotFound))["code"]!.GetValue<string>());
        await GetAsync($"admin/orgs/{other.OrgId}/dubs/{dubId}", HttpStatusCode.NotFound);
        using (var admin = _server.CreateAdminClient())
        {
            using var created = await admin.PostAsJsonAsync("admin/tokens", new { name = "console", org_id = other.OrgId });
            var token = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["token"]!.GetValue<string>();
            await GetAsync($"admin/orgs/{key.OrgId}/jobs/{jobIds[0]}", HttpStatusCode.Forbidden, token);
            await GetAsync($"admin/orgs/{other.OrgId}/jobs/{jobIds[0]}", HttpStatusCode.NotFound, token);
            await GetAsync($"admin/orgs/{other.OrgId}/dubs/{dubId}", HttpStatusCode.NotFound, token);
        }
        Assert.Equal("invalid_parameter", (await GetAsync($"admin/orgs/{other.OrgId}/jobs?after={jobIds[0]}", HttpStatusCode.BadRequest))["code"]!.GetValue<string>());
        Assert.Equal("invalid_parameter", (await GetAsync($"admin/orgs/{key.OrgId}/dubs?limit=0", HttpStatusCode.BadRequest))["code"]!.GetValue<string>());
        await GetAsync("admin/orgs/org_nope/jobs", HttpStatusCode.NotFound);
    }
}
