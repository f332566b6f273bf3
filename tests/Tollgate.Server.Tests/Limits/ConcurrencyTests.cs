using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Limits;

/// <summary>Concurrency per (organization, model) on a real server: exact under contention, immediate refusals, no leaks.</summary>
public sealed class ConcurrencyTests : IAsyncLifetime
{
    private const string Model = "velma-2-stt-batch";
    private const string Streaming = "velma-2-stt-streaming";
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SixtyFourClients_AgainstALimitOfFive_FiveRun_TheRestAreRefusedAtOnce()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 5);
        var file = TestAudio.SpeechLikeWav();
        var gate = new GatedUpload();
        using var client = _server.CreateClient(key.Secret);
        var clock = Stopwatch.StartNew();
        var calls = Enumerable.Range(0, 64).Select(async _ =>
        {
            using var request = gate.Request(Model, file);
            var response = await client.SendAsync(request);
            return (Status: response.StatusCode, At: clock.Elapsed, response.Headers.RetryAfter,
                Body: JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
        }).ToList();

        // While the admitted five hold their slots (their bodies are stalled), all 59 others are answered.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (calls.Count(c => c.IsCompleted) < 59)
        {
            await Task.WhenAny(calls.Where(c => !c.IsCompleted)).WaitAsync(deadline - DateTime.UtcNow);
        }
        var refused = calls.Where(c => c.IsCompleted).Select(c => c.Result).ToList();
        Assert.Equal(59, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, r.Status);
            Assert.Equal("concurrency_limit", r.Body["code"]!.GetValue<string>());
            Assert.NotNull(r.Body["detail"]);
            Assert.InRange(r.RetryAfter!.Delta!.Value.TotalSeconds, 1, 5);
        });
        Assert.Equal(5, (await Usage.ForModelAsync(_server, key.OrgId, Model))["in_flight"]!.GetValue<int>());

        gate.Open();
        var all = await Task.WhenAll(calls);
        Assert.Equal(5, all.Count(r => r.Status == HttpStatusCode.OK));
        Assert.Equal(59, all.Count(r => r.Status == HttpStatusCode.TooManyRequests));
        Assert.Equal(0, (await Usage.ForModelAsync(_server, key.OrgId, Model))["in_flight"]!.GetValue<int>());
    }

    [Fact]
    public async Task AbortedUploads_LeakNoSlot_AllSlotsCanBeTakenAgain()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 3);
        var file = TestAudio.SpeechLikeWav();
        var stalled = new GatedUpload();
        var clients = Enumerable.Range(0, 3).Select(_ => _server.CreateClient(key.Secret)).ToList();
        using var abort = new CancellationTokenSource();
        var uploads = clients.Select(c => c.SendAsync(stalled.Request(Model, file), abort.Token)).ToList();
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Model, 3);

        // The clients die mid-upload.
        abort.Cancel();
        foreach (var c in clients)
        {
            c.Dispose();
        }
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(uploads));
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Model, 0);

        // All three slots are free again: three new uploads run at once and a fourth is refused.
        var gate = new GatedUpload();
        using var client = _server.CreateClient(key.Secret);
        var again = Enumerable.Range(0, 3).Select(_ => client.SendAsync(gate.Request(Model, file))).ToList();
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Model, 3);
        using (var fourth = await client.SendAsync(new GatedUpload().Request(Model, file)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        }
        gate.Open();
        Assert.All(await Task.WhenAll(again), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task WebSockets_HoldASlotForTheirLife_TheNextIsClosed4029_ADroppedOneFreesItsSlot()
    {
        var key = await _server.CreateKeyAsync(Streaming, concurrency: 2);
        var uri = _server.WebSocketUri($"/api/{Streaming}?api_key={key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1");
        var first = await WebSocketSession.ConnectAsync(uri);
        await using var second = await WebSocketSession.ConnectAsync(uri);
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Streaming, 2);

        await using (var third = await WebSocketSession.ConnectAsync(uri))
        {
            var received = await third.ReadUntilClosedAsync();
            Assert.Equal(4029, received.CloseCode);
            var error = Assert.Single(received.Messages);
            Assert.Equal("error", error["type"]!.GetValue<string>());
            Assert.Equal("concurrency_limit", error["code"]!.GetValue<string>());
        }

        first.Abort();
        await first.DisposeAsync();
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Streaming, 1);
        await using var replacement = await WebSocketSession.ConnectAsync(uri);
        await replacement.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 1.0, (0.2, 0.8))));
        await replacement.SendTextAsync("");
        var done = await replacement.ReadUntilClosedAsync();
        Assert.Equal(1000, done.CloseCode);
        Assert.Equal(1000, done.Messages.Last()["duration_ms"]!.GetValue<long>());
    }

    [Fact]
    public async Task TwoKeysOfOneOrganization_ShareTheSlots()
    {
        var a = await _server.CreateKeyAsync(Model, concurrency: 2);
        var b = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Model] = (2, 10) }, orgId: a.OrgId);
        var gate = new GatedUpload();
        var file = TestAudio.SpeechLikeWav();
        using var clientA = _server.CreateClient(a.Secret);
        using var clientB = _server.CreateClient(b.Secret);
        var held = new[] { clientA.SendAsync(gate.Request(Model, file)), clientB.SendAsync(gate.Request(Model, file)) };
        await Usage.WaitForInFlightAsync(_server, a.OrgId, Model, 2);
        using (var refused = await clientB.SendAsync(new GatedUpload().Request(Model, file)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }
        // Another organization is not affected.
        var other = await _server.CreateKeyAsync(Model, concurrency: 1);
        using var otherClient = _server.CreateClient(other.Secret);
        var otherGate = new GatedUpload();
        var otherCall = otherClient.SendAsync(otherGate.Request(Model, file));
        await Usage.WaitForInFlightAsync(_server, other.OrgId, Model, 1);
        gate.Open();
        otherGate.Open();
        Assert.All(await Task.WhenAll(held), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await otherCall).StatusCode);
    }
}
