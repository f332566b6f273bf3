using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Hosting;

/// <summary>
/// <c>/healthz</c> says the process serves; <c>/readyz</c> says its stores answer, through ASP.NET Core health checks:
/// both without a credential, outside admission (no rate-limit headers, nothing counted), and <c>/readyz</c> turns 503
/// while the SQLite file cannot be opened, and back to 200 when it can.
/// </summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Readyz_Fails_WhileTheStoreIsUnreachable_Healthz_StaysUp()
    {
        await using var server = await TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            // Rules on every surface: the probes must still carry no rate-limit header, as they pass no admission step.
            ["Tollgate:RateLimits:Surfaces:Models"] = "global,safe,unsafe-minute,unsafe-hour",
        });
        using var client = server.CreateClient();

        using (var live = await client.GetAsync("healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal("healthy", JsonNode.Parse(await live.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
            Assert.False(live.Headers.Contains("X-RateLimit-Limit"));
            Assert.True(live.Headers.CacheControl?.NoCache == true || live.Headers.CacheControl?.NoStore == true);
        }
        using (var ready = await client.GetAsync("readyz"))
        {
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("healthy", body["checks"]!["sqlite"]!["status"]!.GetValue<string>());
        }

        // The store made unreachable: its file is moved away (a volume unmounted, a file deleted).
        var file = Path.Combine(server.DataDirectory, "tollgate.db");
        var moved = file + ".away";
        File.Move(file, moved);
        try
        {
            using var ready = await client.GetAsync("readyz");
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("unhealthy", body["status"]!.GetValue<string>());
            Assert.Equal("unhealthy", body["checks"]!["sqlite"]!["status"]!.GetValue<string>());
            Assert.Contains(file, body["checks"]!["sqlite"]!["description"]!.GetValue<string>());
            using var live = await client.GetAsync("healthz");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.False(File.Exists(file), "the readiness check must not create the file it probes");
        }
        finally
        {
            File.Move(moved, file);
        }
        using (var ready = await client.GetAsync("readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
    }

    [Fact]
    public async Task Probes_NeedNoCredential_AndAreNotInTheApiDocument()
    {
        await using var server = await TollgateServer.StartAsync();
        using var client = server.CreateClient(apiKey: "tgk_not-a-real-key");
        for (var i = 0; i < 3; i++)
        {
            using var live = await client.GetAsync("healthz");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        var document = await client.GetStringAsync("openapi/v1.json");
        Assert.DoesNotContain("/healthz", document);
        Assert.DoesNotContain("/readyz", document);
    }
}
