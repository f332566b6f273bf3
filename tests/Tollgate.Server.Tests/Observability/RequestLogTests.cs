using System.Net;
using System.Net.Http.Headers;
using Tollgate.Infrastructure;

namespace Tollgate.Observability;

/// <summary>
/// One structured line per request in <c>Tollgate.Requests</c> at Information: method, path (credential parameters
/// left out), status, code, organization, the key's visible prefix, duration and bytes — and no key in any line of the
/// log, whichever surface's style carried it.
/// </summary>
public sealed class RequestLogTests
{
    private const string Presets = "api/velma-2-batch/list-presets";

    [Fact]
    public async Task EveryRequest_GetsOneLine_WithItsFields_AndNoKeyReachesAnyLogLine()
    {
        await using var server = await TollgateServer.StartAsync();
        var key = await server.CreateKeyAsync(new Dictionary<string, (int, double)> { ["velma-2-batch"] = (5, 1), ["velma-2-stt-streaming"] = (5, 1) });
        var other = await server.CreateKeyAsync("velma-2-batch");
        var unknown = "tgk_" + new string('Q', 30) + "_ABCDEF";

        using (var client = server.CreateClient(key.Secret))
        {
            using var presets = await client.GetAsync(Presets + "?api_key=" + other.Secret + "&API_KEY=" + other.Secret + "&api%5Fkey=" + other.Secret + "&view=full");
            Assert.Equal(HttpStatusCode.OK, presets.StatusCode);
        }
        using (var client = server.CreateClient(unknown))
        {
            using var refused = await client.GetAsync(Presets);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using (var dubbing = server.CreateClient())
        {
            dubbing.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Api-Key " + key.Secret);
            await dubbing.GetAsync("v1/me");
        }
        using (var platform = server.CreateClient())
        {
            platform.DefaultRequestHeaders.Add("accountuuid", key.OrgId);
            platform.DefaultRequestHeaders.Add("apikey", other.Secret);
            await platform.PostAsync("api_service", new StringContent("{}"));
        }
        using (var admin = server.CreateAdminClient())
        {
            await admin.GetAsync("admin/orgs");
        }
        await using (var session = await WebSocketSession.ConnectAsync(server.WebSocketUri($"/api/velma-2-stt-streaming?api_key={key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1")))
        {
            await session.SendTextAsync("");
            await session.ReadUntilClosedAsync();
        }

        var lines = await WaitForAsync(server, l => l.Contains("/api/velma-2-stt-streaming", StringComparison.Ordinal));
        var requests = lines.Where(l => l.StartsWith("Information Tollgate.Requests: ", StringComparison.Ordinal)).ToList();

        var prefix = key.Secret[..12];
        Assert.Contains(requests, l => l.Contains($"GET /{Presets}?view=full 200 - org={key.OrgId} key={prefix} ", StringComparison.Ordinal));
        Assert.Contains(requests, l => l.Contains($"GET /{Presets} 401 malformed_api_key org=- key=- ", StringComparison.Ordinal));
        Assert.Contains(requests, l => l.Contains($"GET /v1/me ", StringComparison.Ordinal));
        // The Platform API's own answer (its body here is no job); what matters is that its apikey header is never logged.
        Assert.Contains(requests, l => l.Contains("POST /api_service 4", StringComparison.Ordinal));
        Assert.Contains(requests, l => l.Contains("GET /admin/orgs 200 - ", StringComparison.Ordinal));
        Assert.Contains(requests, l => l.Contains("GET /api/velma-2-stt-streaming?audio_format=s16le&sample_rate=16000&num_channels=1 101 - org=" + key.OrgId, StringComparison.Ordinal));
        // Duration and bytes: the presets answer is a non-empty JSON body.
        var presetsLine = requests.Single(l => l.Contains($"GET /{Presets}?view=full 200", StringComparison.Ordinal));
        var bytes = long.Parse(System.Text.RegularExpressions.Regex.Match(presetsLine, @" ms (\d+) B").Groups[1].Value);
        Assert.True(bytes > 10, presetsLine);

        foreach (var secret in new[] { key.Secret, other.Secret, unknown, TollgateServer.AdminToken })
        {
            var tail = secret[^14..];
            var leaked = lines.Where(l => l.Contains(secret, StringComparison.Ordinal) || l.Contains(tail, StringComparison.Ordinal)).ToList();
            Assert.True(leaked.Count == 0, $"a credential reached the log:\n{string.Join('\n', leaked)}");
        }
    }

    [Fact]
    public async Task Probes_AreLoggedAtDebug_NotPerProbeAtInformation()
    {
        await using var server = await TollgateServer.StartAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Tollgate.Requests"] = "Debug" });
        using var client = server.CreateClient();
        await client.GetAsync("healthz");
        await client.GetAsync("readyz");
        var lines = await WaitForAsync(server, l => l.Contains("GET /readyz", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug Tollgate.Requests: GET /healthz 200", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("Information Tollgate.Requests: GET /healthz", StringComparison.Ordinal));
    }

    /// <summary>The log so far once a line matching <paramref name="until"/> is in it (a WebSocket's line comes when it ends).</summary>
    private static async Task<List<string>> WaitForAsync(TollgateServer server, Func<string, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var lines = server.Logs.ToList();
            if (lines.Any(l => l.Contains("Tollgate.Requests", StringComparison.Ordinal) && until(l)))
            {
                return lines;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("No such request line: " + string.Join('\n', server.Logs));
    }
}
