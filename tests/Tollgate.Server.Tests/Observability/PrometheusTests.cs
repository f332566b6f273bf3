using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Tollgate.Infrastructure;

namespace Tollgate.Observability;

/// <summary>
/// <c>/metrics</c> is off by default and, with <c>Tollgate:Metrics:Prometheus=true</c>, serves the <c>Tollgate</c> meter
/// and ASP.NET Core's own HTTP server metrics in the Prometheus text format: scraped and parsed after real traffic.
/// </summary>
public sealed partial class PrometheusTests
{
    private const string Presets = "api/velma-2-batch/list-presets";

    [Fact]
    public async Task Metrics_AreOffByDefault()
    {
        await using var server = await TollgateServer.StartAsync();
        using var client = server.CreateClient();
        using var response = await client.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task AScrapeAfterTraffic_HasTheAdmissionDecisions_AndTheHttpServerMetrics()
    {
        // A process of its own: a meter listener sees every meter of its name in the process, so in-process servers of
        // other tests would add their traffic to the counts.
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-prometheus", Guid.NewGuid().ToString("N"));
        await using var server = await Tollgate.Hosting.ServerProcess.StartAsync(directory, new Dictionary<string, string>
        {
            ["Tollgate__Metrics__Prometheus"] = "true",
            ["Tollgate__Admin__Token"] = TollgateServer.AdminToken,
            ["Tollgate__Bootstrap__CreateDemo"] = "false",
        });
        var baseAddress = new Uri(server.Address! + "/");
        string secret;
        using (var admin = new HttpClient { BaseAddress = baseAddress })
        {
            admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TollgateServer.AdminToken);
            var org = await PostAsync(admin, "admin/orgs", """{"name":"metrics"}""");
            var user = await PostAsync(admin, $"admin/orgs/{org["id"]}/users", """{"name":"m"}""");
            var key = await PostAsync(admin, $"admin/orgs/{org["id"]}/users/{user["id"]}/keys",
                """{"models":{"velma-2-batch":{"concurrency":2,"monthly_audio_hours":1}}}""");
            secret = key["key"]!.GetValue<string>();
        }
        using (var client = new HttpClient { BaseAddress = baseAddress })
        {
            client.DefaultRequestHeaders.Add("X-API-Key", secret);
            for (var i = 0; i < 3; i++)
            {
                using var ok = await client.GetAsync(Presets);
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            }
        }
        using (var client = new HttpClient { BaseAddress = baseAddress })
        {
            client.DefaultRequestHeaders.Add("X-API-Key", "tgk_" + new string('Q', 30) + "_ABCDEF");
            using var refused = await client.GetAsync(Presets);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var scraper = new HttpClient { BaseAddress = baseAddress };
        using var scrape = await scraper.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType!.MediaType);
        var text = await scrape.Content.ReadAsStringAsync();
        var samples = Parse(text);

        double Sum(string name, params (string Label, string Value)[] labels) =>
            samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).Sum(s => s.Value);

        Assert.Equal(3, Sum("tollgate_admission_decisions_total", ("tollgate_surface", "Models"), ("tollgate_outcome", "admitted")));
        Assert.Equal(1, Sum("tollgate_admission_decisions_total", ("tollgate_outcome", "rejected"), ("tollgate_code", "malformed_api_key")));
        Assert.Equal(1, Sum("tollgate_auth_failures_total", ("tollgate_code", "malformed_api_key"), ("tollgate_outcome", "refused")));
        Assert.True(Sum("tollgate_admission_duration_seconds_count") >= 4);
        // ASP.NET Core's own: the HTTP server's request duration, by route and status.
        Assert.True(Sum("http_server_request_duration_seconds_count", ("http_response_status_code", "200")) >= 3, text);
        Assert.DoesNotContain(secret[4..], text);
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> PostAsync(HttpClient client, string path, string json)
    {
        using var response = await client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return System.Text.Json.Nodes.JsonNode.Parse(text)!;
    }

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);

    /// <summary>The Prometheus text exposition format: <c>name{label="value",…} value [timestamp]</c>, comments skipped.</summary>
    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, "not a Prometheus sample line: " + line);
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Replace("\\\"", "\"").Replace("\\\\", "\\"));
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(match.Groups["name"].Value, labels, value));
        }
        return samples;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
