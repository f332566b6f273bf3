using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Backends;

/// <summary>
/// A header-probed upload streamed through to a real upstream on 127.0.0.1 is held to the rules of the spooled path:
/// the parts after the file are checked before the body's end leaves (so the upstream never receives a complete
/// request it must not see), the upload's deadline still applies, and an answer Tollgate writes instead of the
/// upstream's carries none of the upstream's headers. A 5xx counts against the destination's passive health.
/// </summary>
public sealed class UpstreamStreamedRulesTests : IAsyncLifetime
{
    private const string Batch = "velma-2-stt-batch";
    private const string Boundary = "tollgate-rules-boundary-41";

    private FakeModelServer _a = null!;
    private FakeModelServer _b = null!;
    private readonly List<TollgateServer> _gateways = [];

    public async Task InitializeAsync()
    {
        _a = await FakeModelServer.StartAsync("a");
        _b = await FakeModelServer.StartAsync("b");
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private async Task<(TollgateServer Gateway, TestKey Key)> StartAsync(Uri[] destinations, Dictionary<string, string?>? extra = null,
        Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Tollgate:Upstreams:stt:Models:0"] = Batch,
            ["Tollgate:Upstreams:stt:LoadBalancingPolicy"] = "RoundRobin",
            ["Tollgate:RateLimits:Headers"] = "Both",
        };
        for (var i = 0; i < destinations.Length; i++)
        {
            settings[$"Tollgate:Upstreams:stt:Destinations:d{i}:Address"] = destinations[i].ToString();
        }
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }
        var gateway = await TollgateServer.StartAsync(settings, services);
        _gateways.Add(gateway);
        return (gateway, await gateway.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (5, 10) }));
    }

    /// <summary>A 30 s WAV (streamed through: its header gives the duration) followed by <paramref name="after"/>, as sent.</summary>
    private static byte[] Body(string after)
    {
        var body = new MemoryStream();
        body.Write(Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"upload_file\"; filename=\"a.wav\"\r\n\r\n"));
        body.Write(TestAudio.Wav(TestAudio.Samples(16_000, 30.0, (1, 29)), 16_000));
        body.Write(Encoding.ASCII.GetBytes(after));
        return body.ToArray();
    }

    private static HttpRequestMessage Post(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        return new HttpRequestMessage(HttpMethod.Post, $"api/{Batch}") { Content = content };
    }

    private static async Task<long> ChargedMsAsync(TollgateServer gateway, TestKey key) =>
        (await gateway.Services.GetRequiredService<IUsageLedger>().ChargesAsync(key.OrgId, MonthPeriod.Current(TimeProvider.System)))
            .Where(c => c.Model == Batch).Sum(c => c.Milliseconds);

    private static async Task<JsonObject> ErrorAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>What follows the file in each refused case, and the spooled path's detail for it.</summary>
    private static (string After, string Detail) Refused(string name) => name switch
    {
        // A part after the file without a Content-Disposition.
        "no-disposition" => ($"\r\n--{Boundary}\r\nContent-Type: text/plain\r\n\r\nen\r\n--{Boundary}--\r\n", "Invalid request."),
        // A field after the file over 1 MB.
        "large-field" => ($"\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\n{new string('x', 1024 * 1024 + 1)}\r\n--{Boundary}--\r\n",
            "Form field 'notes' is larger than 1024 KB."),
        // No closing delimiter: the body ends inside a part.
        "unclosed-part" => ($"\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen", "Invalid request."),
        // The file part itself never closed.
        _ => ("", "Invalid request."),
    };

    [Theory]
    [InlineData("no-disposition")]
    [InlineData("large-field")]
    [InlineData("unclosed-part")]
    [InlineData("unclosed-file")]
    public async Task PartsAfterTheFile_AreCheckedAsOnTheSpooledPath_BeforeTheUpstreamSeesTheBodyComplete(string name)
    {
        var (after, detail) = Refused(name);
        var (gateway, key) = await StartAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        using var response = await client.SendAsync(Post(Body(after)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("invalid_request", error["code"]!.GetValue<string>());
        Assert.Equal(detail, error["detail"]!.GetValue<string>());
        Assert.False(response.Headers.Contains("X-Upstream"));
        // The upstream had the file's bytes but never the end of the body: no call completed there.
        Assert.Empty(_a.Calls);
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
        await Usage.WaitForInFlightAsync(gateway, key.OrgId, Batch, 0);
    }

    [Fact]
    public async Task FieldsAfterTheFile_ThatPass_GoUpstreamAsSent()
    {
        var (gateway, key) = await StartAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        var body = Body($"\r\n--{Boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n" +
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"upload_file\"\r\n\r\nsecond\r\n--{Boundary}--\r\nepilogue");
        using var response = await client.SendAsync(Post(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, Assert.Single(_a.Calls).Body);
        Assert.Equal(30_000, await ChargedMsAsync(gateway, key));
    }

    [Fact]
    public async Task AStreamedUploadThatStalls_Is408AtItsDeadline_Uncharged_NoCallCompletesUpstream()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (gateway, key) = await StartAsync([_a.BaseAddress], new()
        {
            ["Tollgate:Uploads:DeadlineFloor"] = "5s",
            ["Tollgate:Uploads:MinimumBytesPerSecond"] = (1024L * 1024 * 1024).ToString(),
        }, s => s.AddSingleton<TimeProvider>(time));
        var file = TestAudio.Wav(TestAudio.Samples(16_000, 30.0, (1, 29)), 16_000);
        await using var stalled = await StalledUpload.StartAsync(gateway.BaseAddress, "api/" + Batch, key.Secret, file);
        // Streamed: the upstream has the first half while the client stalls.
        await _a.FirstBytes.WaitAsync(TimeSpan.FromSeconds(30));
        var answer = stalled.ReadResponseAsync(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(answer.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        var (status, headers, text) = await answer;
        Assert.Equal(408, status);
        Assert.Equal("close", headers["Connection"]);
        var error = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("upload_timeout", error["code"]!.GetValue<string>());
        Assert.Contains("did not arrive within 5 s", error["detail"]!.GetValue<string>());
        // The upstream had the first half only: no call completed there (the gateway cancelled it with the answer).
        Assert.Empty(_a.Calls);
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
        await Usage.WaitForInFlightAsync(gateway, key.OrgId, Batch, 0);
    }

    [Fact]
    public async Task AReplacedAnswer_CarriesTollgatesHeaders_NoneOfTheUpstreams()
    {
        var (gateway, key) = await StartAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        var body = Body($"\r\n--{Boundary}--\r\n");

        _a.Behavior = FakeBehavior.Fail;
        using (var response = await client.SendAsync(Post(body)))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("Bad Gateway", response.ReasonPhrase);
            Assert.False(response.Headers.Contains("X-Upstream"));
            Assert.True(response.Headers.Contains("RateLimit-Policy"));
            Assert.Equal("upstream_error", (await ErrorAsync(response))["code"]!.GetValue<string>());
        }

        _a.Behavior = FakeBehavior.Drop;
        using (var response = await client.SendAsync(Post(body)))
        {
            // The fragment was held by the settlement gate: the client gets the error alone, with Tollgate's headers only.
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.False(response.Headers.Contains("X-Upstream"));
            Assert.True(response.Headers.Contains("RateLimit-Policy"));
            Assert.Equal(text.Length, response.Content.Headers.ContentLength);
            Assert.Equal("upstream_unavailable", JsonNode.Parse(text)!["code"]!.GetValue<string>());
        }
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
    }

    [Fact]
    public async Task A5xxAnswer_CountsAgainstPassiveHealth_TheDestinationIsTakenOut()
    {
        _a.Behavior = FakeBehavior.Fail;
        var (gateway, key) = await StartAsync([_a.BaseAddress, _b.BaseAddress], new()
        {
            ["Tollgate:Upstreams:stt:HealthCheck:Passive:Enabled"] = "true",
            ["Tollgate:Upstreams:stt:HealthCheck:Passive:ReactivationPeriod"] = "00:05:00",
        });
        using var client = gateway.CreateClient(key.Secret);
        var body = Body($"\r\n--{Boundary}--\r\n");
        // YARP's TransportFailureRate decides once a destination has 10 calls in its window (failure rate limit 0.3).
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.SendAsync(Post(body));
        }
        var failedBefore = _a.Calls.Count;
        Assert.InRange(failedBefore, 10, 11);
        for (var i = 0; i < 6; i++)
        {
            using var response = await client.SendAsync(Post(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("b", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["server"]!.GetValue<string>());
        }
        Assert.Equal(failedBefore, _a.Calls.Count);
    }
}
