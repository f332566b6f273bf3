using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Infrastructure;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Server.Hosting;

namespace Tollgate.Backends;

/// <summary>
/// The production path: models served by upstream clusters (YARP) of real model servers on 127.0.0.1, behind a real
/// Tollgate: load balancing, health checks, every failure in shape and uncharged, the upload streamed through as the
/// client sent it, the caller's key never upstream, request ids carried, configuration checked and reloaded.
/// </summary>
public sealed class UpstreamClusterTests : IAsyncLifetime
{
    private const string Batch = "velma-2-stt-batch";
    private const string Streaming = "velma-2-stt-streaming";
    private const string UpstreamKey = "upstream-credential-0123456789";
    private const string Boundary = "tollgate-test-boundary-7f3a";

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

    private async Task<(TollgateServer Gateway, TestKey Key)> StartGatewayAsync(IEnumerable<Uri> destinations, Dictionary<string, string?>? extra = null, double hours = 10)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Tollgate:Upstreams:stt:Models:0"] = Batch,
            ["Tollgate:Upstreams:stt:Models:1"] = Streaming,
            ["Tollgate:Upstreams:stt:ApiKey"] = UpstreamKey,
            ["Tollgate:Upstreams:stt:LoadBalancingPolicy"] = "RoundRobin",
        };
        var i = 0;
        foreach (var destination in destinations)
        {
            settings[$"Tollgate:Upstreams:stt:Destinations:d{i++}:Address"] = destination.ToString();
        }
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }
        var gateway = await TollgateServer.StartAsync(settings);
        _gateways.Add(gateway);
        var key = await gateway.CreateKeyAsync(new Dictionary<string, (int, double)> { [Batch] = (5, hours), [Streaming] = (5, hours) });
        return (gateway, key);
    }

    private static byte[] MultipartBody(byte[] file, string fileName, string boundary = Boundary)
    {
        var body = new MemoryStream();
        void Text(string s) => body.Write(Encoding.ASCII.GetBytes(s));
        Text($"--{boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n");
        Text($"--{boundary}\r\nContent-Disposition: form-data; name=\"upload_file\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.Write(file);
        Text($"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"speaker_diarization\"\r\n\r\ntrue\r\n--{boundary}--\r\n");
        return body.ToArray();
    }

    private static HttpRequestMessage Post(byte[] body, HttpContent? content = null)
    {
        content ??= new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        return new HttpRequestMessage(HttpMethod.Post, $"api/{Batch}") { Content = content };
    }

    private static async Task<long> ChargedMsAsync(TollgateServer gateway, TestKey key) =>
        (await gateway.Services.GetRequiredService<IUsageLedger>().ChargesAsync(key.OrgId, MonthPeriod.Current(TimeProvider.System)))
            .Where(c => c.Model == Batch || c.Model == Streaming).Sum(c => c.Milliseconds);

    private static async Task<JsonObject> ErrorAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    [Fact]
    public async Task RoundRobin_SpreadsCallsOverTwoDestinations_AndTheirAnswersComeBackUnchanged()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress, _b.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        var wav = TestAudio.SpeechLikeWav();
        var servers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.SendAsync(Post(MultipartBody(wav, "a.wav")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            servers.Add(answer["server"]!.GetValue<string>());
            Assert.Equal(answer["server"]!.GetValue<string>(), response.Headers.GetValues("X-Upstream").Single());
            // The upstream's rate-limit fields are not Tollgate's: they are not passed on.
            Assert.False(response.Headers.Contains("X-RateLimit-Limit"));
            Assert.False(response.Headers.Contains("Retry-After"));
        }
        Assert.Equal(2, servers.Count(s => s == "a"));
        Assert.Equal(2, servers.Count(s => s == "b"));
        Assert.Equal(4 * 3000, await ChargedMsAsync(gateway, key));
    }

    [Fact]
    public async Task TheUpstreamGetsItsOwnKey_NeverTheCallers_AndTheRequestIds()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        var traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using (var request = Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav")))
        {
            request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
            request.Headers.Add("X-Request-Id", "client-request-42");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var response = await client.SendAsync(Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav"))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var calls = _a.Calls.ToArray();
        Assert.Equal(2, calls.Length);
        foreach (var call in calls)
        {
            Assert.Equal(UpstreamKey, call.Headers["X-API-Key"]);
            Assert.DoesNotContain(call.Headers.Values, v => v.Contains(key.Secret, StringComparison.Ordinal));
            Assert.DoesNotContain(key.Secret, Encoding.ASCII.GetString(call.Body));
        }
        Assert.Contains(traceId, calls[0].Headers["traceparent"]);
        Assert.Equal("client-request-42", calls[0].Headers["X-Request-Id"]);
        // Without one from the client, the upstream sees the ledger's request id of the call.
        var charges = await gateway.Services.GetRequiredService<IUsageLedger>().ChargesAsync(key.OrgId, MonthPeriod.Current(TimeProvider.System));
        Assert.Contains(charges, c => c.RequestId == calls[1].Headers["X-Request-Id"]);
    }

    [Fact]
    public async Task A30SecondWav_StreamsThrough_TheUpstreamSeesItsFirstBytesBeforeTheClientFinished_NothingSpooled()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        var wav = TestAudio.Wav(TestAudio.Samples(16_000, 30.0, (1, 29)), 16_000);
        var body = MultipartBody(wav, "long.wav");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sending = client.SendAsync(Post(body, new HalfThenGate(body, gate.Task)));

        await _a.FirstBytes.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(Directory.Exists(Path.Combine(gateway.DataDirectory, "spool")) ? Directory.GetFiles(Path.Combine(gateway.DataDirectory, "spool")) : []);
        gate.SetResult();
        using var response = await sending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Exactly the bytes the client sent: its boundary, its fields on both sides of the file.
        Assert.Equal(body, Assert.Single(_a.Calls).Body);
        Assert.Equal(30_000, await ChargedMsAsync(gateway, key));
    }

    [Fact]
    public async Task AFileOverTheQuota_IsRefusedBeforeAnyByteReachesTheUpstream()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress], hours: 10.0 / 3600); // 10 s a month
        using var client = gateway.CreateClient(key.Secret);
        var wav = TestAudio.Wav(TestAudio.Samples(16_000, 30.0, (1, 29)), 16_000);
        using var response = await client.SendAsync(Post(MultipartBody(wav, "long.wav")));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("quota_exceeded", (await ErrorAsync(response))["code"]!.GetValue<string>());
        Assert.False(_a.FirstBytes.IsCompleted);
        Assert.Empty(_a.Calls);
    }

    [Fact]
    public async Task AnMp3WithoutIndex_IsSpooled_WithXing_StreamsThrough()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        // 60 s at 64 kb/s: 480 KB, more than the beginning Tollgate holds to probe.
        var plain = TestAudio.Encode("mp3", 60.0, "-codec:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0");
        var indexed = TestAudio.Encode("mp3", 60.0, "-codec:a", "libmp3lame", "-b:a", "64k");

        using (var response = await client.SendAsync(Post(MultipartBody(plain, "plain.mp3"))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var response = await client.SendAsync(Post(MultipartBody(indexed, "indexed.mp3"))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var calls = _a.Calls.ToArray();
        // Spooled: a new multipart body (its own boundary) around the same file bytes.
        Assert.DoesNotContain(Boundary, calls[0].Headers["Content-Type"]);
        Assert.True(calls[0].Body.AsSpan().IndexOf(plain) >= 0);
        // Streamed: the client's body as it was.
        Assert.Equal(MultipartBody(indexed, "indexed.mp3"), calls[1].Body);
        Assert.InRange(await ChargedMsAsync(gateway, key), 2 * 59_000, 2 * 61_000);
    }

    [Fact]
    public async Task ARefusedConnection_Is502_Uncharged_TheLeaseFree()
    {
        var (gateway, key) = await StartGatewayAsync([ClosedPort()]);
        using var client = gateway.CreateClient(key.Secret);
        using var response = await client.SendAsync(Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav")));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_unavailable", (await ErrorAsync(response))["code"]!.GetValue<string>());
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
        await Usage.WaitForInFlightAsync(gateway, key.OrgId, Batch, 0);
    }

    [Fact]
    public async Task ARefusedConnection_BeforeAnyByteLeft_IsTriedOnTheOtherDestination()
    {
        var (gateway, key) = await StartGatewayAsync([ClosedPort(), _a.BaseAddress], new() { ["Tollgate:Upstreams:stt:LoadBalancingPolicy"] = "FirstAlphabetical" });
        using var client = gateway.CreateClient(key.Secret);
        using var response = await client.SendAsync(Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_a.Calls);
        Assert.Equal(3000, await ChargedMsAsync(gateway, key));
    }

    [Fact]
    public async Task A5xx_Is502InTheErrorShape_Uncharged()
    {
        _a.Behavior = FakeBehavior.Fail;
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        using var response = await client.SendAsync(Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav")));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Contains("500", error["detail"]!.GetValue<string>());
        Assert.Single(_a.Calls); // never retried
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
        await Usage.WaitForInFlightAsync(gateway, key.OrgId, Batch, 0);
    }

    [Fact]
    public async Task ASilentUpstream_Is504_Uncharged_AndItsCallCancelled()
    {
        _a.Behavior = FakeBehavior.Hang;
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress], new() { ["Tollgate:Upstreams:stt:Timeout"] = "00:00:01" });
        using var client = gateway.CreateClient(key.Secret);
        using var response = await client.SendAsync(Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav")));
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", (await ErrorAsync(response))["code"]!.GetValue<string>());
        await _a.Aborted.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
        await Usage.WaitForInFlightAsync(gateway, key.OrgId, Batch, 0);
    }

    [Fact]
    public async Task AnUpstreamThatDropsMidAnswer_AbortsTheClientsAnswer_Uncharged()
    {
        _a.Behavior = FakeBehavior.Drop;
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        // The client never holds a complete answer: its connection is aborted mid-answer or, when the drop came before
        // any of the answer had left, it gets 502 in the error shape.
        try
        {
            using var response = await client.SendAsync(Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav")));
            await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("upstream_unavailable", (await ErrorAsync(response))["code"]!.GetValue<string>());
        }
        catch (HttpRequestException)
        {
        }
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
        await Usage.WaitForInFlightAsync(gateway, key.OrgId, Batch, 0);
    }

    [Fact]
    public async Task AClientThatGoesAway_CancelsTheUpstreamCall()
    {
        _a.Behavior = FakeBehavior.Hang;
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        using var cancel = new CancellationTokenSource();
        var sending = client.SendAsync(Post(MultipartBody(TestAudio.SpeechLikeWav(), "a.wav")), cancel.Token);
        await Eventually.WaitForAsync(() => Task.FromResult(_a.Calls.IsEmpty ? null : "seen"), TimeSpan.FromSeconds(30));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        await _a.Aborted.WaitAsync(TimeSpan.FromSeconds(30));
        await Usage.WaitForInFlightAsync(gateway, key.OrgId, Batch, 0);
        Assert.Equal(0, await ChargedMsAsync(gateway, key));
    }

    [Fact]
    public async Task ADestinationFailingItsHealthCheck_IsTakenOut_AndBroughtBack()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress, _b.BaseAddress], new()
        {
            ["Tollgate:Upstreams:stt:HealthCheck:Active:Enabled"] = "true",
            ["Tollgate:Upstreams:stt:HealthCheck:Active:Interval"] = "00:00:00.200",
            ["Tollgate:Upstreams:stt:HealthCheck:Active:Timeout"] = "00:00:01",
            ["Tollgate:Upstreams:stt:HealthCheck:Active:Path"] = "/healthz",
        });
        using var client = gateway.CreateClient(key.Secret);
        var wav = MultipartBody(TestAudio.SpeechLikeWav(), "a.wav");
        _b.Healthy = false;
        // Taken out: once the probes have seen it fail, every call goes to a.
        await Eventually.WaitForAsync(async () =>
        {
            var before = _b.Calls.Count;
            for (var i = 0; i < 4; i++)
            {
                using var response = await client.SendAsync(Post(wav));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            return _b.Calls.Count == before ? "out" : null;
        }, TimeSpan.FromSeconds(30));
        _b.Healthy = true;
        await Eventually.WaitForAsync(async () =>
        {
            using var response = await client.SendAsync(Post(wav));
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["server"]!.GetValue<string>() == "b" ? "back" : null;
        }, TimeSpan.FromSeconds(30));
        Assert.True(_b.HealthProbes > 0);
    }

    [Fact]
    public async Task Streams_AreRelayedAndMeteredExactly_AndAnUpstreamThatBreaks_Closes1011AfterAnError()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        var uri = gateway.WebSocketUri($"/api/{Streaming}?api_key={key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1");
        await using (var session = await WebSocketSession.ConnectAsync(uri))
        {
            await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 2.0, (0.2, 1.8))));
            await session.SendTextAsync("");
            var received = await session.ReadUntilClosedAsync();
            Assert.Equal(1000, received.CloseCode);
            Assert.Equal(2000, received.Messages.Last()["duration_ms"]!.GetValue<long>());
        }
        var seen = Assert.Single(_a.Calls);
        Assert.Contains("api_key=" + UpstreamKey, seen.Query);
        Assert.DoesNotContain(key.Secret, seen.Query);
        Assert.Equal(2000, await ChargedMsAsync(gateway, key));

        _a.DropStreams = true;
        await using (var session = await WebSocketSession.ConnectAsync(uri))
        {
            await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 0.5, (0.1, 0.4))));
            var received = await session.ReadUntilClosedAsync();
            Assert.Equal(1011, received.CloseCode);
            Assert.Equal("upstream_unavailable", received.Messages.Last()["code"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task AReload_ChangesTheDestinations_WithoutARestart()
    {
        var (gateway, key) = await StartGatewayAsync([_a.BaseAddress]);
        using var client = gateway.CreateClient(key.Secret);
        var wav = MultipartBody(TestAudio.SpeechLikeWav(), "a.wav");
        var configuration = (IConfigurationRoot)gateway.Services.GetRequiredService<IConfiguration>();
        configuration["Tollgate:Upstreams:stt:Destinations:d0:Address"] = _b.BaseAddress.ToString();
        configuration.Reload();
        await Eventually.WaitForAsync(async () =>
        {
            using var response = await client.SendAsync(Post(wav));
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["server"]!.GetValue<string>() == "b" ? "moved" : null;
        }, TimeSpan.FromSeconds(30));

        // A reload with an error leaves the running configuration as it was.
        configuration["Tollgate:Upstreams:stt:Destinations:d0:Address"] = "not a url";
        configuration.Reload();
        using var still = await client.SendAsync(Post(wav));
        Assert.Equal("b", JsonNode.Parse(await still.Content.ReadAsStringAsync())!["server"]!.GetValue<string>());
    }

    [Fact]
    public async Task BadUpstreamSettings_AreReportedAllAtOnce()
    {
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:Upstreams:one:Models:0"] = "no-such-model",
            ["Tollgate:Upstreams:one:Models:1"] = Batch,
            ["Tollgate:Upstreams:one:Destinations:x:Address"] = "ftp://models.internal",
            ["Tollgate:Upstreams:one:LoadBalancingPolicy"] = "Fastest",
            ["Tollgate:Upstreams:two:Models:0"] = Batch,
            ["Tollgate:Upstreams:two:HealthCheck:Active:Enabled"] = "true",
            ["Tollgate:Upstreams:three:Models:0"] = Streaming,
            ["Tollgate:Upstreams:three:Destinations:y:Address"] = "http://10.0.0.5:8080",
            ["Tollgate:Upstreams:three:LoadBalancingPolicy"] = "Fastest",
            ["Tollgate:Upstreams:three:Timeout"] = "soon",
        }));
        var problems = error.Problems;
        Assert.Contains(problems, p => p.Contains("Tollgate:Upstreams:one:Models") && p.Contains("no-such-model"));
        Assert.Contains(problems, p => p.Contains("Tollgate:Upstreams:one:Destinations:x:Address") && p.Contains("ftp://models.internal"));
        Assert.Contains(problems, p => p.Contains("Tollgate:Upstreams:two:Models") && p.Contains("already served by Tollgate:Upstreams:one"));
        Assert.Contains(problems, p => p.Contains("Tollgate:Upstreams:two:Destinations must name"));
        Assert.Contains(problems, p => p.Contains("Tollgate:Upstreams:two:HealthCheck:Active:Path"));
        Assert.Contains(problems, p => p.Contains("Timeout") && p.Contains("soon"));
    }

    /// <summary>A loopback port nothing listens on: a connection there is refused.</summary>
    private static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>Sends the first half of the body, then waits for the test before sending the rest.</summary>
    private sealed class HalfThenGate(byte[] body, Task gate) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            await gate.WaitAsync(TimeSpan.FromSeconds(60));
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
