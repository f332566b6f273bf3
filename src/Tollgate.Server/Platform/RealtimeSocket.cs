using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Tollgate.Server.Backends;

namespace Tollgate.Server.Platform;

/// <summary>
/// The realtime stream's socket as the streaming backend sees it: the backend speaks the Models API streaming protocol
/// (binary audio in; JSON <c>utterance</c>, <c>partial_utterance</c>, <c>done</c>, <c>error</c> out; an empty text frame
/// ends the stream), and this socket records what it says for the job's result. In plain mode that is also what the
/// client sees. In Pipecat mode it translates both ways to the protocol of Pipecat's WebSocket transport
/// (<c>@pipecat-ai/websocket-transport</c>): every message is a binary protobuf <c>pipecat.Frame</c>; microphone
/// audio arrives as <c>AudioRawFrame</c> (16 kHz mono s16le), RTVI messages as <c>MessageFrame</c> JSON. The client's
/// <c>client-ready</c> is answered with <c>bot-ready</c>; utterances go out as <c>user-transcription</c> (and the
/// utterance itself as a <c>server-message</c>), errors as an RTVI <c>error</c>; the client's close or
/// <c>disconnect-bot</c> ends the stream.
/// </summary>
internal sealed class RealtimeSocket(WebSocket inner, bool pipecat) : WebSocket
{
    public const string RtviLabel = "rtvi-ai";
    public const string RtviVersion = "2.1.0";

    // pipecat.Frame oneof field numbers, and the fields of the messages inside.
    private const int FrameAudio = 2;
    private const int FrameMessage = 4;
    private const int AudioBytes = 3;
    private const int AudioSampleRate = 4;
    private const int AudioChannels = 5;
    private const int MessageData = 1;

    private ReadOnlyMemory<byte> _pending;
    private bool _ended;
    private bool _closeReceived;

    /// <summary>Every utterance the backend reported, in order.</summary>
    public List<JsonObject> Utterances { get; } = [];

    /// <summary>The error the stream ended with, if any (<c>code</c>, <c>error</c>).</summary>
    public (string Code, string Detail)? Error { get; private set; }

    /// <summary>Whether the Pipecat client said <c>client-ready</c> and was answered <c>bot-ready</c>.</summary>
    public bool BotReadySent { get; private set; }

    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;
    public override string? CloseStatusDescription => inner.CloseStatusDescription;
    public override WebSocketState State => inner.State;
    public override string? SubProtocol => inner.SubProtocol;
    public override void Abort() => inner.Abort();
    public override void Dispose() => inner.Dispose();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, inner.CloseStatus, inner.CloseStatusDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!pipecat)
        {
            return await inner.ReceiveAsync(buffer, cancellationToken);
        }
        while (_pending.IsEmpty)
        {
            if (_closeReceived)
            {
                return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
            }
            var message = await WebSocketMessages.ReadAsync(inner, cancellationToken);
            try
            {
                if (message.IsClose)
                {
                    _closeReceived = true;
                    if (!_ended)
                    {
                        // The client left: that ends the stream, and its last results are still assembled.
                        _ended = true;
                        return EndOfStream;
                    }
                    continue;
                }
                if (message.Type != WebSocketMessageType.Binary)
                {
                    throw new InvalidDataException("Pipecat frames are binary protobuf messages; a text message is not one.");
                }
                if (await TakeFrameAsync(message.Payload, cancellationToken) is { } endOfStream)
                {
                    return endOfStream;
                }
            }
            finally
            {
                message.Return();
            }
        }
        var count = Math.Min(buffer.Length, _pending.Length);
        _pending[..count].CopyTo(buffer);
        _pending = _pending[count..];
        return new ValueWebSocketReceiveResult(count, WebSocketMessageType.Binary, _pending.IsEmpty);
    }

    private static ValueWebSocketReceiveResult EndOfStream => new(0, WebSocketMessageType.Text, true);

    /// <summary>One Pipecat frame: audio becomes pending bytes; an RTVI message is answered; the end of stream when the client asks for it.</summary>
    private async ValueTask<ValueWebSocketReceiveResult?> TakeFrameAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        try
        {
            var frame = new CodedInputStream(payload.ToArray());
            uint tag;
            while ((tag = frame.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case FrameAudio when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        _pending = ReadAudio(frame.ReadBytes());
                        break;
                    case FrameMessage when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        if (await TakeRtviAsync(ReadMessage(frame.ReadBytes()), ct))
                        {
                            _ended = true;
                            return EndOfStream;
                        }
                        break;
                    default:
                        frame.SkipLastField();
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException)
        {
            throw new InvalidDataException("A message is not a Pipecat protobuf frame.");
        }
        return null;
    }

    private static ReadOnlyMemory<byte> ReadAudio(ByteString bytes)
    {
        var audio = new CodedInputStream(bytes.ToByteArray());
        ReadOnlyMemory<byte> samples = default;
        uint rate = 16_000, channels = 1, tag;
        while ((tag = audio.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case AudioBytes:
                    samples = audio.ReadBytes().Memory;
                    break;
                case AudioSampleRate:
                    rate = audio.ReadUInt32();
                    break;
                case AudioChannels:
                    channels = audio.ReadUInt32();
                    break;
                default:
                    audio.SkipLastField();
                    break;
            }
        }
        if (rate != 16_000 || channels != 1)
        {
            throw new InvalidDataException($"Audio must be 16 kHz mono 16-bit PCM (recorderSampleRate 16000); this frame is {rate} Hz, {channels} channels.");
        }
        return samples;
    }

    private static string ReadMessage(ByteString bytes)
    {
        var message = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = message.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == MessageData)
            {
                return message.ReadString();
            }
            message.SkipLastField();
        }
        return "";
    }

    /// <summary>Handles an RTVI message from the client; true when it ends the stream.</summary>
    private async Task<bool> TakeRtviAsync(string json, CancellationToken ct)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            throw new InvalidDataException("An RTVI message is not JSON.");
        }
        if (node is not JsonObject message || message["label"]?.ToString() != RtviLabel)
        {
            return false;
        }
        switch (message["type"]?.ToString())
        {
            case "client-ready":
                await SendRtviAsync("bot-ready", new JsonObject
                {
                    ["version"] = RtviVersion,
                    ["about"] = new JsonObject { ["library"] = "tollgate", ["library_version"] = typeof(RealtimeSocket).Assembly.GetName().Version?.ToString() },
                }, message["id"]?.ToString(), ct);
                BotReadySent = true;
                return false;
            case "disconnect-bot":
                return true;
            default:
                return false;
        }
    }

    private Task SendRtviAsync(string type, JsonNode data, string? id, CancellationToken ct)
    {
        var json = new JsonObject { ["label"] = RtviLabel, ["type"] = type, ["id"] = id ?? Guid.NewGuid().ToString("N")[..8], ["data"] = data }.ToJsonString();
        return inner.SendAsync(MessageFrameBytes(json), WebSocketMessageType.Binary, true, ct);
    }

    /// <summary><c>pipecat.Frame { message = MessageFrame { data = json } }</c>.</summary>
    public static byte[] MessageFrameBytes(string json)
    {
        var innerSize = CodedOutputStream.ComputeTagSize(MessageData) + CodedOutputStream.ComputeStringSize(json);
        var bytes = new byte[CodedOutputStream.ComputeTagSize(FrameMessage) + CodedOutputStream.ComputeLengthSize(innerSize) + innerSize];
        var output = new CodedOutputStream(bytes);
        output.WriteTag(FrameMessage, WireFormat.WireType.LengthDelimited);
        output.WriteLength(innerSize);
        output.WriteTag(MessageData, WireFormat.WireType.LengthDelimited);
        output.WriteString(json);
        output.Flush();
        return bytes;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken) =>
        SendAsync(buffer, messageType, messageFlags.HasFlag(WebSocketMessageFlags.EndOfMessage), cancellationToken);

    /// <summary>The backend's messages are whole (one send each): recorded, then passed on or translated.</summary>
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        JsonObject? message = null;
        if (messageType == WebSocketMessageType.Text)
        {
            try
            {
                message = JsonNode.Parse(buffer.Span) as JsonObject;
            }
            catch (JsonException)
            {
            }
            Record(message);
        }
        if (!pipecat)
        {
            await inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
            return;
        }
        if (message is null || _closeReceived)
        {
            return; // nothing a Pipecat client reads (or it has gone)
        }
        switch (message["type"]?.ToString())
        {
            case "utterance" when message["utterance"] is JsonObject utterance:
                await SendRtviAsync("user-transcription", Transcription(utterance, final: true), null, cancellationToken);
                await SendRtviAsync("server-message", new JsonObject { ["data"] = message.DeepClone() }, null, cancellationToken);
                break;
            case "partial_utterance" when message["partial_utterance"] is JsonObject partial:
                await SendRtviAsync("user-transcription", Transcription(partial, final: false), null, cancellationToken);
                break;
            case "error":
                var text = message["error"]?.ToString() ?? "The stream failed.";
                await SendRtviAsync("error", new JsonObject { ["message"] = text, ["error"] = text, ["code"] = message["code"]?.DeepClone(), ["fatal"] = true }, null, cancellationToken);
                break;
            default:
                await SendRtviAsync("server-message", new JsonObject { ["data"] = message.DeepClone() }, null, cancellationToken);
                break;
        }
    }

    private static JsonObject Transcription(JsonObject utterance, bool final) => new()
    {
        ["text"] = utterance["text"]?.DeepClone() ?? "",
        ["user_id"] = "user",
        ["timestamp"] = DateTimeOffset.UtcNow.ToString("o", System.Globalization.CultureInfo.InvariantCulture),
        ["final"] = final,
    };

    private void Record(JsonObject? message)
    {
        switch (message?["type"]?.ToString())
        {
            case "utterance" when message["utterance"] is JsonObject utterance:
                Utterances.Add((JsonObject)utterance.DeepClone());
                break;
            case "error":
                Error = (message["code"]?.ToString() ?? "stream_failed", message["error"]?.ToString() ?? "The stream failed.");
                break;
        }
    }
}
