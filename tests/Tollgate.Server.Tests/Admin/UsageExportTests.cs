using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Client.Admin;
using Tollgate.Infrastructure;

namespace Tollgate.Admin;

/// <summary>
/// <c>GET /admin/orgs/{orgId}/usage/events</c> on a real server after real metered calls: every row once, in order,
/// across pages (with the clock held still, so many rows share one millisecond), as JSON and as CloudEvents, and the
/// totals of an export equal the usage report's to the millisecond.
/// </summary>
public sealed class UsageExportTests : IAsyncLifetime
{
    private const string Stt = "velma-2-stt-batch";
    private const string Emotion = "velma-2-emotion-batch";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 20, 9, 0, 0, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TollgateServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static readonly Dictionary<string, (int, double)> BothModels = new() { [Stt] = (5, 10), [Emotion] = (5, 10) };

    /// <summary>Two users' keys in one organization, each calling both models with clips of odd lengths; some at one instant.</summary>
    private async Task<(TestKey First, TestKey Second, int Calls)> MeteredCallsAsync()
    {
        var first = await _server.CreateKeyAsync(BothModels);
        var second = await _server.CreateKeyAsync(BothModels, orgId: first.OrgId);
        var calls = 0;
        double[] seconds = [1.234, 0.5, 2.017, 0.75, 1.001, 0.613];
        for (var i = 0; i < seconds.Length; i++)
        {
            foreach (var (key, model) in new[] { (first, Stt), (second, Emotion), (second, Stt) })
            {
                await PostAsync(key, model, seconds[i]);
                calls++;
            }
            if (i % 2 == 1)
            {
                _time.Advance(TimeSpan.FromMilliseconds(1));
            }
        }
        return (first, second, calls);
    }

    private async Task PostAsync(TestKey key, string model, double seconds)
    {
        using var client = _server.CreateClient(key.Secret);
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.Wav(TestAudio.Samples(16_000, seconds, (0.1, seconds - 0.1)), 16_000)), "upload_file", "clip.wav" },
        };
        using var response = await client.PostAsync($"api/{model}", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{model} {seconds} s → {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<JsonObject> ReportAsync(string orgId, string month)
    {
        using var admin = _server.CreateAdminClient();
        return (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{orgId}/usage?month={month}"))!;
    }

    private static Dictionary<string, (long Ms, long Charges)> ReportTotals(JsonObject report) =>
        report["models"]!.AsArray().Select(m => m!.AsObject()).Where(m => m["charges"]!.GetValue<long>() > 0)
            .ToDictionary(m => m["model"]!.GetValue<string>(), m => (m["used_ms"]!.GetValue<long>(), m["charges"]!.GetValue<long>()));

    private static Dictionary<string, (long Ms, long Charges)> Totals(IEnumerable<(string Model, long Ms)> rows) =>
        rows.GroupBy(r => r.Model).ToDictionary(g => g.Key, g => (g.Sum(r => r.Ms), (long)g.Count()));

    /// <summary>Follows <c>next</c> from the first page until <c>has_more</c> is false.</summary>
    private async Task<List<JsonObject>> JsonPagesAsync(string orgId, string query)
    {
        using var admin = _server.CreateAdminClient();
        var pages = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var page = (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{orgId}/usage/events?{query}" + (cursor is null ? "" : $"&cursor={cursor}")))!;
            pages.Add(page);
            cursor = page["next"]?.GetValue<string>();
        }
        while (pages[^1]["has_more"]!.GetValue<bool>());
        return pages;
    }

    [Fact]
    public async Task AnExport_InPagesOfTwo_HoldsEveryRowOnce_InOrder_AndItsTotalsAreTheUsageReports()
    {
        var (first, second, calls) = await MeteredCallsAsync();
        var other = await _server.CreateKeyAsync(Stt);
        await PostAsync(other, Stt, 1.5);

        var pages = await JsonPagesAsync(first.OrgId, "month=2026-05&limit=2");
        var events = pages.SelectMany(p => p["events"]!.AsArray().Select(e => e!.AsObject())).ToList();

        Assert.Equal(calls, events.Count);
        Assert.All(pages.SkipLast(1), p => Assert.Equal(2, p["events"]!.AsArray().Count));
        Assert.Equal(calls, events.Select(e => e["request_id"]!.GetValue<string>()).Distinct().Count());
        var keys = events.Select(e => (Time: e["time"]!.GetValue<DateTimeOffset>(), Id: e["request_id"]!.GetValue<string>())).ToList();
        Assert.Equal(keys.OrderBy(k => k.Time).ThenBy(k => k.Id, StringComparer.Ordinal), keys);
        Assert.True(keys.GroupBy(k => k.Time).Max(g => g.Count()) >= 6, "the clock held still for several calls");
        Assert.All(events, e =>
        {
            Assert.Equal(first.OrgId, e["org_id"]!.GetValue<string>());
            Assert.Equal("2026-05", e["month"]!.GetValue<string>());
            var user = e["user_id"]!.GetValue<string>();
            Assert.Equal(user == first.UserId ? first.KeyId : second.KeyId, e["key_id"]!.GetValue<string>());
        });
        Assert.Contains(events, e => e["user_id"]!.GetValue<string>() == second.UserId && e["model"]!.GetValue<string>() == Emotion);

        var exported = Totals(events.Select(e => (e["model"]!.GetValue<string>(), e["milliseconds"]!.GetValue<long>())));
        Assert.Equal(ReportTotals(await ReportAsync(first.OrgId, "2026-05")), exported);
        Assert.Equal(1234 + 500 + 2017 + 750 + 1001 + 613, exported[Emotion].Ms);
    }

    [Fact]
    public async Task TheSameRows_AsACloudEventsBatch_ChosenByAccept_FollowingLinkHeaders_AreValidCloudEvents_WithTheReportsTotals()
    {
        var (first, _, calls) = await MeteredCallsAsync();
        using var admin = _server.CreateAdminClient();
        var formatter = new JsonEventFormatter();
        var events = new List<CloudEvent>();
        var url = $"admin/orgs/{first.OrgId}/usage/events?month=2026-05&limit=4";
        var pages = 0;
        while (url is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/cloudevents-batch+json"));
            using var response = await admin.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/cloudevents-batch+json", response.Content.Headers.ContentType!.MediaType);
            var batch = formatter.DecodeBatchModeMessage(await response.Content.ReadAsByteArrayAsync(),
                new System.Net.Mime.ContentType(response.Content.Headers.ContentType.ToString()), null);
            events.AddRange(batch);
            pages++;
            Assert.True(response.Headers.Contains("Tollgate-Next-Cursor"));
            url = response.Headers.TryGetValues("Link", out var links)
                ? System.Text.RegularExpressions.Regex.Match(links.Single(), "^<([^>]+)>; rel=\"next\"$").Groups[1].Value.TrimStart('/')
                : null;
        }

        Assert.Equal((calls + 3) / 4, pages);
        Assert.Equal(calls, events.Select(e => e.Id).Distinct().Count());
        Assert.All(events, e =>
        {
            Assert.Equal(CloudEventsSpecVersion.V1_0, e.SpecVersion);
            Assert.Equal("com.tollgate.usage.audio", e.Type);
            Assert.Equal($"/tollgate/orgs/{first.OrgId}", e.Source!.ToString());
            Assert.StartsWith("usr_", e.Subject);
            Assert.Equal("application/json", e.DataContentType);
            Assert.Equal(new DateTimeOffset(2026, 5, 20, 9, 0, 0, TimeSpan.Zero), e.Time!.Value.AddMilliseconds(-e.Time.Value.Millisecond));
            var data = (JsonElement)e.Data!;
            Assert.Equal(first.OrgId, data.GetProperty("org_id").GetString());
            Assert.Equal(e.Subject, data.GetProperty("user_id").GetString());
            Assert.StartsWith("key_", data.GetProperty("key_id").GetString());
        });
        var exported = Totals(events.Select(e =>
        {
            var data = (JsonElement)e.Data!;
            return (data.GetProperty("model").GetString()!, data.GetProperty("milliseconds").GetInt64());
        }));
        Assert.Equal(ReportTotals(await ReportAsync(first.OrgId, "2026-05")), exported);

        // The JSON export names the same rows: the event ids are its request ids.
        var json = (await JsonPagesAsync(first.OrgId, "month=2026-05&limit=1000")).Single()["events"]!.AsArray()
            .Select(e => e!["request_id"]!.GetValue<string>());
        Assert.Equal(json, events.Select(e => e.Id));
        // format=cloudevents selects the same, whatever Accept says.
        using var byQuery = await admin.GetAsync($"admin/orgs/{first.OrgId}/usage/events?month=2026-05&format=cloudevents&limit=1000");
        Assert.Equal("application/cloudevents-batch+json", byQuery.Content.Headers.ContentType!.MediaType);
        Assert.Equal(calls, JsonNode.Parse(await byQuery.Content.ReadAsStringAsync())!.AsArray().Count);
    }

    [Fact]
    public async Task ACursor_ReadsOnWhereItStopped_TheSamePageTwice_AndLaterRowsAfterIt()
    {
        var key = await _server.CreateKeyAsync(Stt);
        for (var i = 0; i < 3; i++)
        {
            await PostAsync(key, Stt, 0.5 + i * 0.1);
        }
        using var admin = _server.CreateAdminClient();
        var firstPage = (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{key.OrgId}/usage/events?limit=2"))!;
        Assert.True(firstPage["has_more"]!.GetValue<bool>());
        var cursor = firstPage["next"]!.GetValue<string>();

        var again = (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{key.OrgId}/usage/events?limit=2&cursor={cursor}"))!;
        var twice = (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{key.OrgId}/usage/events?limit=2&cursor={cursor}"))!;
        Assert.True(JsonNode.DeepEquals(again, twice));
        Assert.Single(again["events"]!.AsArray());
        Assert.False(again["has_more"]!.GetValue<bool>());

        // The end of the ledger for now: its next still says where to read on once more rows are written.
        var end = again["next"]!.GetValue<string>();
        var empty = (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{key.OrgId}/usage/events?cursor={end}"))!;
        Assert.Empty(empty["events"]!.AsArray());
        Assert.Equal(end, empty["next"]!.GetValue<string>());
        await PostAsync(key, Stt, 0.9);
        var later = (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{key.OrgId}/usage/events?cursor={end}"))!;
        Assert.Equal(900, Assert.Single(later["events"]!.AsArray())!["milliseconds"]!.GetValue<long>());
    }

    [Fact]
    public async Task MonthAndSince_Select_AsTheUsageReportCountsMonths()
    {
        var key = await _server.CreateKeyAsync(Stt);
        await PostAsync(key, Stt, 1.0);
        _time.SetUtcNow(new DateTimeOffset(2026, 6, 2, 8, 0, 0, TimeSpan.Zero));
        await PostAsync(key, Stt, 2.0);
        using var admin = _server.CreateAdminClient();

        async Task<long[]> MsAsync(string query) =>
            [.. (await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{key.OrgId}/usage/events?{query}"))!["events"]!.AsArray()
                .Select(e => e!["milliseconds"]!.GetValue<long>())];

        Assert.Equal(new long[] { 1000, 2000 }, await MsAsync(""));
        Assert.Equal(new long[] { 1000 }, await MsAsync("month=2026-05"));
        Assert.Equal(new long[] { 2000 }, await MsAsync("month=2026-06"));
        Assert.Equal(new long[] { 2000 }, await MsAsync("since=2026-06-01T00:00:00Z"));
        Assert.Equal(new long[] { 2000 }, await MsAsync("since=2026-06-01T02:00:00%2B02:00"));
        // A '+' left unescaped arrives as a space; it is read as the '+' it was.
        Assert.Equal(new long[] { 2000 }, await MsAsync("since=2026-06-01T02:00:00+02:00"));
        Assert.Equal(new long[] { 1000, 2000 }, await MsAsync("since=2026-05-20T09:00:00.000Z"));
        Assert.Empty(await MsAsync("since=2026-06-02T08:00:00.001Z"));
        Assert.Empty(await MsAsync("month=2026-05&since=2026-06-01T00:00:00Z"));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("month=2026-13", "month")]
    [InlineData("month=May", "month")]
    [InlineData("since=yesterday", "since")]
    [InlineData("since=2026-05-01", "since")]
    [InlineData("since=2026-05-01T00:00:00", "since")]
    [InlineData("cursor=%21%21%21", "cursor")]
    [InlineData("cursor=bm90LWEtY3Vyc29y", "cursor")]
    [InlineData("format=xml", "format")]
    public async Task ABadParameter_Is400_InTheErrorShape_NamingIt(string query, string name)
    {
        var key = await _server.CreateKeyAsync(Stt);
        using var admin = _server.CreateAdminClient();
        using var response = await admin.GetAsync($"admin/orgs/{key.OrgId}/usage/events?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("invalid_parameter", body["code"]!.GetValue<string>());
        Assert.StartsWith($"Invalid {name}=", body["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnUnknownOrganization_Is404_AndNoToken_Is401()
    {
        using var admin = _server.CreateAdminClient();
        using var missing = await admin.GetAsync("admin/orgs/org_nope/usage/events");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("not_found", JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["code"]!.GetValue<string>());

        using var anonymous = _server.CreateClient();
        using var refused = await anonymous.GetAsync("admin/orgs/org_nope/usage/events");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task TheClient_PagesThroughEverything_InBothFormats()
    {
        var (first, _, calls) = await MeteredCallsAsync();
        using var client = new TollgateAdminClient(_server.BaseAddress, TollgateServer.AdminToken);

        var events = new List<UsageEvent>();
        await foreach (var e in client.ExportUsageAsync(first.OrgId, new UsageExportOptions { Month = "2026-05", PageSize = 5 }))
        {
            events.Add(e);
        }
        Assert.Equal(calls, events.Count);
        Assert.Equal(ReportTotals(await ReportAsync(first.OrgId, "2026-05")), Totals(events.Select(e => (e.Model, e.Milliseconds))));

        var cloudEvents = new List<JsonElement>();
        await foreach (var e in client.ExportUsageCloudEventsAsync(first.OrgId, new UsageExportOptions { Month = "2026-05", PageSize = 7 }))
        {
            cloudEvents.Add(e);
        }
        Assert.Equal(events.Select(e => e.RequestId), cloudEvents.Select(e => e.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task TheOpenApiDocument_DescribesBothAnswers()
    {
        using var client = _server.CreateClient();
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var operation = document["paths"]!["/admin/orgs/{orgId}/usage/events"]!["get"]!;
        var ok = operation["responses"]!["200"]!["content"]!.AsObject();
        Assert.NotNull(ok["application/json"]!["schema"]);
        Assert.NotNull(ok["application/cloudevents-batch+json"]!["schema"]);
        Assert.Equal(["month", "since", "cursor", "limit", "format"],
            operation["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).Where(n => n != "orgId"));
        foreach (var status in new[] { "400", "401", "404" })
        {
            Assert.NotNull(operation["responses"]![status]);
        }
    }
}
