using System.Net;
using Tollgate.Infrastructure;

namespace Tollgate.Models;

/// <summary>
/// A model called the way the other kind is answers <c>wrong_model_kind</c> naming the endpoint to use: 400 for a POST
/// to a streaming model, an error message and close 1003 for a WebSocket to a batch model. No key is needed to learn
/// that, and nothing is counted against one (it is a wrong method, not a call).
/// </summary>
public sealed class WrongModelKindTests : IAsyncLifetime
{
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("/api/velma-2-stt-streaming", " To send a file, POST it to /api/velma-2-stt-batch.")]
    [InlineData("/API/Velma-2-STT-Streaming/", " To send a file, POST it to /api/velma-2-stt-batch.")]
    [InlineData("/api/velma-2-stt-streaming-english-v2", "")]
    public async Task PostToAStreamingModel_Is400WrongModelKind_NamingTheWebSocket(string path, string alternative)
    {
        using var client = _server.CreateClient();
        using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
        using var response = await client.PostAsync(path, content);

        var name = path.Trim('/').Split('/')[1].ToLowerInvariant();
        await BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "wrong_model_kind",
            $"{name} is a streaming model: open a WebSocket to /api/{name}?api_key=<key>." + alternative);
        Assert.False(response.Headers.Contains("X-RateLimit-Limit"));
    }

    [Theory]
    [InlineData("/api/velma-2-stt-batch", "velma-2-stt-batch", " To stream audio, open the WebSocket /api/velma-2-stt-streaming.")]
    [InlineData("/API/VELMA-2-BATCH", "velma-2-batch", " To stream audio, open the WebSocket /api/velma-2-streaming.")]
    [InlineData("/api/velma-2-accent-batch/", "velma-2-accent-batch", "")]
    public async Task AWebSocketToABatchModel_IsAnErrorAndClose1003_NamingThePost(string path, string name, string alternative)
    {
        await using var session = await WebSocketSession.ConnectAsync(_server.WebSocketUri(path));
        var received = await session.ReadUntilClosedAsync();

        var detail = $"{name} is a batch model: POST the file to /api/{name} (multipart field upload_file)." + alternative;
        var error = Assert.Single(received.Messages);
        Assert.Equal(("error", "wrong_model_kind", detail),
            (error["type"]!.GetValue<string>(), error["code"]!.GetValue<string>(), error["error"]!.GetValue<string>()));
        Assert.Equal(1003, received.CloseCode);
        Assert.StartsWith(name + " is a batch model", received.CloseDescription);
    }

    [Fact]
    public async Task APlainGetOfABatchModel_StaysA405_ThatSaysToPost()
    {
        using var client = _server.CreateClient();
        using var response = await client.GetAsync("/api/velma-2-stt-batch");
        await BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed",
            "GET is not allowed on /api/velma-2-stt-batch; use POST.");
        Assert.Equal(["POST"], response.Content.Headers.Allow);
    }
}
