using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Backends;

/// <summary>
/// A model whose configuration names an upstream is forwarded there (HTTP and WebSocket) with Tollgate's own
/// upstream key, and the upstream's answer comes back as it was. The upstream here is a second real Tollgate.
/// </summary>
public sealed class UpstreamForwardingTests : IAsyncLifetime
{
    private TollgateServer _upstream = null!;
    private TollgateServer _gateway = null!;
    private TestKey _upstreamKey = null!;
    private TestKey _gatewayKey = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TollgateServer.StartAsync();
        _upstreamKey = await _upstream.CreateKeyAsync(new Dictionary<string, (int, double)>
        {
            ["velma-2-stt-batch"] = (5, 10),
            ["velma-2-stt-streaming"] = (5, 10),
        });
        var url = _upstream.BaseAddress.ToString();
        _gateway = await TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:Backends:velma-2-stt-batch:Url"] = url,
            ["Tollgate:Backends:velma-2-stt-batch:ApiKey"] = _upstreamKey.Secret,
            ["Tollgate:Backends:velma-2-stt-streaming:Url"] = url,
            ["Tollgate:Backends:velma-2-stt-streaming:ApiKey"] = _upstreamKey.Secret,
        });
        _gatewayKey = await _gateway.CreateKeyAsync(new Dictionary<string, (int, double)>
        {
            ["velma-2-stt-batch"] = (5, 10),
            ["velma-2-stt-streaming"] = (5, 10),
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Batch_IsForwarded_AndTheUpstreamAnswerComesBackUnchanged()
    {
        using var client = _gateway.CreateClient(_gatewayKey.Secret);
        using (var ok = await PostAsync(client))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(3000, JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["duration_ms"]!.GetValue<long>());
        }

        // Revoke Tollgate's key at the upstream: the upstream's own 401 now comes back through the gateway.
        using var admin = _upstream.CreateAdminClient();
        await admin.DeleteAsync($"admin/keys/{_upstreamKey.KeyId}");
        using var refused = await PostAsync(client);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("revoked_api_key", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Streaming_IsRelayed_BothWays()
    {
        await using (var session = await WebSocketSession.ConnectAsync(_gateway.WebSocketUri(
            $"/api/velma-2-stt-streaming?api_key={_gatewayKey.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1")))
        {
            await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 2.0, (0.2, 1.8))));
            await session.SendTextAsync("");
            var received = await session.ReadUntilClosedAsync();
            Assert.Equal(1000, received.CloseCode);
            Assert.Equal(2000, received.Messages.Last()["duration_ms"]!.GetValue<long>());
        }

        using var admin = _upstream.CreateAdminClient();
        await admin.DeleteAsync($"admin/keys/{_upstreamKey.KeyId}");
        await using (var session = await WebSocketSession.ConnectAsync(_gateway.WebSocketUri(
            $"/api/velma-2-stt-streaming?api_key={_gatewayKey.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1")))
        {
            var received = await session.ReadUntilClosedAsync();
            Assert.Equal(4001, received.CloseCode);
            Assert.Equal("revoked_api_key", received.Messages.Single()["code"]!.GetValue<string>());
        }
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client)
    {
        using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
        return await client.PostAsync("api/velma-2-stt-batch", content);
    }
}
