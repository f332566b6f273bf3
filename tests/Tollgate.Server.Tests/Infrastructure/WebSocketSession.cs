using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Tollgate.Infrastructure;

/// <summary>A test client for the streaming channels: send frames, read every message until the server closes.</summary>
public sealed class WebSocketSession : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private WebSocketSession(ClientWebSocket socket) => _socket = socket;

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<WebSocketSession> ConnectAsync(Uri uri, CancellationToken ct = default)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(uri, ct);
        return new WebSocketSession(socket);
    }

    /// <summary>Drops the connection without a closing handshake, as a crashed client would.</summary>
    public void Abort() => _socket.Abort();

    public Task SendTextAsync(string text, CancellationToken ct = default) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct);

    public Task SendBinaryAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct = default) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, ct).AsTask();

    /// <summary>Sends audio in frames of <paramref name="frameSize"/> bytes.</summary>
    public async Task SendAudioAsync(byte[] audio, int frameSize = 8192, CancellationToken ct = default)
    {
        for (var offset = 0; offset < audio.Length; offset += frameSize)
        {
            await SendBinaryAsync(audio.AsMemory(offset, Math.Min(frameSize, audio.Length - offset)), ct);
        }
    }

    /// <summary>Reads messages until the server closes (or <paramref name="timeout"/>): text messages parsed as JSON, binary kept as bytes.</summary>
    public async Task<Received> ReadUntilClosedAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var messages = new List<JsonObject>();
        var binaries = new List<byte[]>();
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (_socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            var result = await _socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (_socket.State == WebSocketState.CloseReceived)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
                break;
            }
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            var bytes = message.ToArray();
            message.SetLength(0);
            if (result.MessageType == WebSocketMessageType.Text)
            {
                messages.Add(JsonNode.Parse(bytes)!.AsObject());
            }
            else
            {
                binaries.Add(bytes);
            }
        }
        return new Received(messages, binaries, _socket.CloseStatus, _socket.CloseStatusDescription);
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, new CancellationTokenSource(2000).Token);
            }
            catch (Exception)
            {
            }
        }
        _socket.Dispose();
    }

    public sealed record Received(List<JsonObject> Messages, List<byte[]> Binaries, WebSocketCloseStatus? CloseStatus, string? CloseDescription)
    {
        public int CloseCode => (int?)CloseStatus ?? -1;

        public IEnumerable<string> Types => Messages.Select(m => m["type"]?.GetValue<string>() ?? "?");
    }
}
