using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Tollgate.Server.Backends;

/// <summary>One whole WebSocket message, reassembled from its frames, in a pooled buffer the caller returns.</summary>
internal readonly struct WebSocketMessage(WebSocketMessageType type, byte[]? buffer, int count, WebSocketCloseStatus? closeStatus, string? closeDescription)
{
    public WebSocketMessageType Type => type;
    public ReadOnlyMemory<byte> Payload => buffer is null ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, count);
    public int Count => count;
    public WebSocketCloseStatus? CloseStatus => closeStatus;
    public string? CloseDescription => closeDescription;
    public bool IsClose => type == WebSocketMessageType.Close;

    public void Return()
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

internal static class WebSocketMessages
{
    /// <summary>Largest message accepted from a client (audio frames are typically 4-64 KB).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>Reads the next whole message; a message over <see cref="MaxMessageBytes"/> throws <see cref="InvalidDataException"/>.</summary>
    /// <remarks>Its state machine is pooled: a relay reads one message per frame each way, for as long as the stream lasts.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<WebSocketMessage> ReadAsync(WebSocket socket, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var count = 0;
        try
        {
            while (true)
            {
                if (count == buffer.Length)
                {
                    if (buffer.Length >= MaxMessageBytes)
                    {
                        throw new InvalidDataException($"A WebSocket message is larger than {MaxMessageBytes / (1024 * 1024)} MB.");
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxMessageBytes));
                    buffer.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var result = await socket.ReceiveAsync(buffer.AsMemory(count), ct);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new WebSocketMessage(WebSocketMessageType.Close, null, 0, socket.CloseStatus, socket.CloseStatusDescription);
                }
                count += result.Count;
                if (result.EndOfMessage)
                {
                    return new WebSocketMessage(result.MessageType, buffer, count, null, null);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Closes with <paramref name="status"/> unless the socket is already closing, and waits briefly for the peer's close.</summary>
    public static async Task CloseQuietlyAsync(WebSocket socket, WebSocketCloseStatus status, string? description, CancellationToken ct)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                await socket.CloseAsync(status, description, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }
    }
}
