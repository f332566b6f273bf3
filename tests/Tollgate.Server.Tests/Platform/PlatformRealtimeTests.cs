using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Platform;

/// <summary>Realtime jobs on a real server: the one-time URL, plain PCM and Pipecat's protocol, the lease's model, cut-off at the quota.</summary>
public sealed class PlatformRealtimeTests : IAsyncLifetime
{
    private const string Streaming = "velma-2-stt-streaming";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 0, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId) =>
        await _server.Services.GetRequiredService<IUsageLedger>().ChargesAsync(orgId, new MonthPeriod(2026, 5));

    private static byte[] Pcm() => TestAudio.S16Le(TestAudio.Samples(16_000, 3.0, (0.5, 1.5), (2.0, 2.8)));

    private async Task<(TestKey Key, PlatformClient Client, string JobId, Uri Url)> OpenAsync(double hours = 10)
    {
        var key = await _server.CreateKeyAsync(Streaming, hours: hours);
        var client = new PlatformClient(_server, key);
        var (status, body) = await client.PostJsonAsync(new JsonObject { ["submission_type"] = "realtime_websocket", ["flags"] = new JsonObject() });
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(("pending", "realtime_websocket", 60), (body["status"]!.GetValue<string>(), body["submission_type"]!.GetValue<string>(),
            body["realtime_url_expires_in_seconds"]!.GetValue<int>()));
        var url = new Uri(body["realtime_url"]!.GetValue<string>());
        Assert.Equal("ws", url.Scheme);
        Assert.DoesNotContain(key.Secret, url.ToString());
        return (key, client, body["job_id"]!.GetValue<string>(), url);
    }

    private static Uri Plain(Uri url) => new(url + "&audio_format=s16le&sample_rate=16000&num_channels=1");

    [Fact]
    public async Task APlainPcmStream_GetsTheModelsApiMessages_AndTheJobCompletesChargedTheAudioSent()
    {
        var (key, client, jobId, url) = await OpenAsync();
        using var _ = client;
        await using (var socket = await WebSocketSession.ConnectAsync(Plain(url)))
        {
            await socket.SendAudioAsync(Pcm());
            await socket.SendTextAsync("");
            var received = await socket.ReadUntilClosedAsync();
            Assert.Equal(1000, received.CloseCode);
            Assert.Equal(new[] { "utterance", "utterance", "done" }, received.Types);
        }
        var done = await client.WaitForAsync(jobId, "completed");
        var file = done["files"]![0]!;
        Assert.Equal(("realtime-stream", "completed", 3000L, 1), (file["filename"]!.GetValue<string>(), file["status"]!.GetValue<string>(),
            file["duration_ms"]!.GetValue<long>(), file["api_calls_charged"]!.GetValue<int>()));
        Assert.Equal(2, file["result"]!["utterances"]!.AsArray().Count);
        var charge = Assert.Single(await ChargesAsync(key.OrgId));
        Assert.Equal((Streaming, 3000L), (charge.Model, charge.Milliseconds));
    }

    [Fact]
    public async Task TheUrlIsGoodForOneConnection_AndExpiresUnused()
    {
        var (_, client, jobId, url) = await OpenAsync();
        using var __ = client;
        await using (var first = await WebSocketSession.ConnectAsync(Plain(url)))
        {
            await using var second = await WebSocketSession.ConnectAsync(Plain(url));
            var refused = await second.ReadUntilClosedAsync();
            Assert.Equal(4001, refused.CloseCode);
            Assert.Equal("invalid_realtime_token", refused.Messages.Single()["code"]!.GetValue<string>());
            await first.SendTextAsync("");
            Assert.Equal(1000, (await first.ReadUntilClosedAsync()).CloseCode);
        }
        await client.WaitForAsync(jobId, "completed");

        var (_, unused, unusedId, unusedUrl) = await OpenAsync();
        using var ___ = unused;
        _time.Advance(TimeSpan.FromSeconds(60));
        await using (var late = await WebSocketSession.ConnectAsync(unusedUrl))
        {
            var refused = await late.ReadUntilClosedAsync();
            Assert.Equal(4001, refused.CloseCode);
            Assert.Contains("expired", refused.Messages.Single()["error"]!.GetValue<string>());
        }
        var expired = await unused.WaitForAsync(unusedId, "failed");
        Assert.Equal("job_expired", expired["error"]!["code"]!.GetValue<string>());

        // A wrong token, and no token, are refused too.
        await using var forged = await WebSocketSession.ConnectAsync(new Uri(url.GetLeftPart(UriPartial.Path) + "?token=rt_0000"));
        Assert.Equal(4001, (await forged.ReadUntilClosedAsync()).CloseCode);
    }

    [Fact]
    public async Task AStream_IsCutOffAtTheQuota_AndChargedExactlyWhatFit()
    {
        var (key, client, jobId, url) = await OpenAsync(hours: 1000 / 3_600_000d);
        using var _ = client;
        await using (var socket = await WebSocketSession.ConnectAsync(Plain(url)))
        {
            await socket.SendAudioAsync(Pcm(), frameSize: 3200);
            var received = await socket.ReadUntilClosedAsync();
            Assert.Equal(4029, received.CloseCode);
            Assert.Equal("quota_exceeded", received.Messages.Last()["code"]!.GetValue<string>());
        }
        var done = await client.WaitForAsync(jobId, "completed");
        Assert.Equal(1000, done["files"]![0]!["duration_ms"]!.GetValue<long>());
        Assert.Equal(1000, Assert.Single(await ChargesAsync(key.OrgId)).Milliseconds);

        // Nothing left: a new realtime job is refused at once.
        PlatformClient.AssertError(HttpStatusCode.Forbidden, "quota_exceeded", await client.PostJsonAsync(new JsonObject { ["submission_type"] = "realtime_websocket" }));
    }

    [Fact]
    public async Task RealtimeSubmissions_NeedTheStreamingModel_AndTakeNoAudioOrFlags()
    {
        var batchOnly = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, batchOnly);
        PlatformClient.AssertError(HttpStatusCode.Forbidden, "model_not_permitted", await client.PostJsonAsync(new JsonObject { ["submission_type"] = "realtime_websocket" }));
        var key = await _server.CreateKeyAsync(Streaming);
        using var streaming = new PlatformClient(_server, key);
        PlatformClient.AssertError(HttpStatusCode.UnprocessableEntity, "validation_failed", await streaming.PostJsonAsync(
            new JsonObject { ["submission_type"] = "realtime_websocket", ["audio_base64"] = "AAAA" }));
        PlatformClient.AssertError(HttpStatusCode.UnprocessableEntity, "validation_failed", await streaming.PostJsonAsync(
            new JsonObject { ["submission_type"] = "realtime_websocket", ["flags"] = new JsonObject { ["emotion_annotation"] = true } }));
    }

    [Fact]
    public async Task APipecatClient_GetsBotReady_AndUserTranscriptions_InProtobufFrames()
    {
        var (key, client, jobId, url) = await OpenAsync();
        using var _ = client;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(url, CancellationToken.None);
        // What @pipecat-ai/websocket-transport does: client-ready, then the microphone audio at once.
        await SendAsync(socket, MessageFrame("{\"label\":\"rtvi-ai\",\"type\":\"client-ready\",\"id\":\"c1\",\"data\":{\"version\":\"2.1.0\",\"about\":{\"library\":\"test\"}}}"));
        var pcm = Pcm();
        for (var offset = 0; offset < pcm.Length; offset += 3200)
        {
            await SendAsync(socket, AudioFrame(pcm.AsSpan(offset, Math.Min(3200, pcm.Length - offset)).ToArray()));
        }
        var messages = new List<JsonObject>();
        var ready = await ReceiveRtviAsync(socket);
        Assert.Equal(("rtvi-ai", "bot-ready", "c1", "2.1.0"), (ready["label"]!.GetValue<string>(), ready["type"]!.GetValue<string>(),
            ready["id"]!.GetValue<string>(), ready["data"]!["version"]!.GetValue<string>()));
        // The first utterance is final once its trailing silence is heard; the second when the client leaves.
        while (messages.Count(m => m["type"]!.GetValue<string>() == "user-transcription") < 1)
        {
            messages.Add(await ReceiveRtviAsync(socket));
        }
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        while (socket.State != WebSocketState.Closed)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }
        }
        var transcription = messages.First(m => m["type"]!.GetValue<string>() == "user-transcription")["data"]!;
        Assert.True(transcription["final"]!.GetValue<bool>());
        Assert.Equal("user", transcription["user_id"]!.GetValue<string>());

        var done = await client.WaitForAsync(jobId, "completed");
        Assert.Equal(3000, done["files"]![0]!["duration_ms"]!.GetValue<long>());
        Assert.Equal(2, done["files"]![0]!["result"]!["utterances"]!.AsArray().Count);
        Assert.Equal(3000, Assert.Single(await ChargesAsync(key.OrgId)).Milliseconds);
    }

    private static Task SendAsync(ClientWebSocket socket, byte[] frame) =>
        socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary><c>Frame { audio = AudioRawFrame { id, name "audio", audio, sample_rate 16000, num_channels 1 } }</c>.</summary>
    private static byte[] AudioFrame(byte[] pcm)
    {
        using var inner = new MemoryStream();
        var a = new CodedOutputStream(inner);
        a.WriteTag(1, WireFormat.WireType.Varint);
        a.WriteUInt64(0);
        a.WriteTag(2, WireFormat.WireType.LengthDelimited);
        a.WriteString("audio");
        a.WriteTag(3, WireFormat.WireType.LengthDelimited);
        a.WriteBytes(ByteString.CopyFrom(pcm));
        a.WriteTag(4, WireFormat.WireType.Varint);
        a.WriteUInt32(16_000);
        a.WriteTag(5, WireFormat.WireType.Varint);
        a.WriteUInt32(1);
        a.Flush();
        return Wrap(2, inner.ToArray());
    }

    private static byte[] MessageFrame(string json)
    {
        using var inner = new MemoryStream();
        var m = new CodedOutputStream(inner);
        m.WriteTag(1, WireFormat.WireType.LengthDelimited);
        m.WriteString(json);
        m.Flush();
        return Wrap(4, inner.ToArray());
    }

    private static byte[] Wrap(int field, byte[] inner)
    {
        using var frame = new MemoryStream();
        var f = new CodedOutputStream(frame);
        f.WriteTag(field, WireFormat.WireType.LengthDelimited);
        f.WriteBytes(ByteString.CopyFrom(inner));
        f.Flush();
        return frame.ToArray();
    }

    /// <summary>The next server message: a binary <c>Frame { message = MessageFrame { data } }</c>, its RTVI JSON.</summary>
    private static async Task<JsonObject> ReceiveRtviAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[1024 * 1024];
        var count = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), timeout.Token);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            count += result.Count;
        }
        while (!result.EndOfMessage);
        Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
        var frame = new CodedInputStream(buffer, 0, count);
        Assert.Equal(4, WireFormat.GetTagFieldNumber(frame.ReadTag()));
        var message = new CodedInputStream(frame.ReadBytes().ToByteArray());
        Assert.Equal(1, WireFormat.GetTagFieldNumber(message.ReadTag()));
        return JsonNode.Parse(message.ReadString())!.AsObject();
    }
}
