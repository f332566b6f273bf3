using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;

namespace Tollgate.Limits;

/// <summary>
/// A batch upload must arrive within its deadline (Tollgate:Uploads: a floor plus its declared size at a minimum rate):
/// a stalled one is answered 408 <c>upload_timeout</c> and its slot is free at once; a slow one inside the deadline passes.
/// Time is a fake clock, so nothing sleeps through the deadline.
/// </summary>
public sealed class UploadDeadlineTests : IAsyncLifetime
{
    private const string Model = "velma-2-stt-batch";
    private const long BytesPerSecond = 64 * 1024;
    private static readonly TimeSpan Floor = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 0, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync(new Dictionary<string, string?>
    {
        ["Tollgate:Uploads:DeadlineFloor"] = "5s",
        ["Tollgate:Uploads:MinimumBytesPerSecond"] = BytesPerSecond.ToString(),
    }, s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task StalledUpload_Is408AtItsDeadline_ItsSlotFreeAtOnce_NothingCharged()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 1);
        var file = TestAudio.SpeechLikeWav();
        using var client = _server.CreateClient(key.Secret);
        await using var stalled = await StalledUpload.StartAsync(_server.BaseAddress, "api/" + Model, key.Secret, file);
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Model, 1);
        var answer = stalled.ReadResponseAsync(TimeSpan.FromSeconds(20));

        // The stalled upload holds the only slot: another is refused.
        using (var refused = await client.SendAsync(new GatedUpload().Request(Model, file)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        var deadline = Floor + TimeSpan.FromSeconds((double)stalled.DeclaredLength / BytesPerSecond);
        _time.Advance(deadline - TimeSpan.FromMilliseconds(500));
        Assert.Equal(1, (await Usage.ForModelAsync(_server, key.OrgId, Model))["in_flight"]!.GetValue<int>());
        Assert.False(answer.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        var (status, headers, text) = await answer;
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(408, status);
        Assert.Equal("close", headers["Connection"]);
        Assert.Equal("upload_timeout", body["code"]!.GetValue<string>());
        Assert.Contains("did not arrive within", body["detail"]!.GetValue<string>());
        Assert.Equal(2, body.Count);

        // Free the moment the answer is complete, with nothing charged or reserved: the next upload runs.
        var usage = await Usage.ForModelAsync(_server, key.OrgId, Model);
        Assert.Equal(0, usage["in_flight"]!.GetValue<int>());
        Assert.Equal(0, usage["used_ms"]!.GetValue<long>());
        Assert.Equal(0, usage["reserved_ms"]!.GetValue<long>());
        using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", "a.wav" } };
        using var next = await client.PostAsync("api/" + Model, content);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task SlowUpload_InsideItsDeadline_Passes_AndIsCharged()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 1);
        var file = TestAudio.SpeechLikeWav();
        using var client = _server.CreateClient(key.Secret);
        var slow = new GatedUpload();
        using var request = slow.Request(Model, file);
        var declared = request.Content!.Headers.ContentLength!.Value;
        var pending = client.SendAsync(request);
        await slow.BodyStarted;
        await Usage.WaitForInFlightAsync(_server, key.OrgId, Model, 1);

        _time.Advance(Floor + TimeSpan.FromSeconds((double)declared / BytesPerSecond) - TimeSpan.FromSeconds(1));
        slow.Open();
        using var response = await pending.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3_000, (await Usage.ForModelAsync(_server, key.OrgId, Model))["used_ms"]!.GetValue<long>());
    }
}
