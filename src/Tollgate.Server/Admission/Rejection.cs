using System.Net.WebSockets;
using System.Text.Json;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// A refusal, said the way the transport can say it: an HTTP status with <c>{"detail","code"}</c>, or for a
/// WebSocket an <c>error</c> message followed by a close code (the handshake is accepted so the client can read why).
/// </summary>
internal sealed record Rejection(int Status, int CloseCode, string Code, string Detail, int? RetryAfterSeconds = null)
{
    public Task WriteAsync(HttpContext context)
    {
        Observability.RequestLogEntry.NoteCode(context, Code);
        return context.WebSockets.IsWebSocketRequest ? CloseWebSocketAsync(context) : WriteHttpAsync(context);
    }

    /// <summary>The HTTP form as a minimal-API result (for endpoint filters), <c>Retry-After</c> included.</summary>
    public IResult ToResult(HttpContext context)
    {
        if (RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return ApiError.Result(Status, Code, Detail);
    }

    private Task WriteHttpAsync(HttpContext context)
    {
        if (RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return ApiError.WriteAsync(context, Status, Code, Detail);
    }

    private async Task CloseWebSocketAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await SendErrorAndCloseAsync(socket, CloseCode, Code, Detail, context.RequestAborted);
    }

    /// <summary>The streaming contracts' error message, then the close: used at admission and mid-stream alike.</summary>
    public static async Task SendErrorAndCloseAsync(WebSocket socket, int closeCode, string code, string detail, CancellationToken ct)
    {
        try
        {
            await SendErrorAndCloseOutputAsync(socket, closeCode, code, detail, ct);
            await DrainUntilClosedAsync(socket, ct);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away first: nothing more to tell it.
        }
    }

    /// <summary>
    /// The error message and the close frame, without waiting for the client's close: for a socket something else is
    /// still receiving on (a relay), which then reads the client's answering close.
    /// </summary>
    public static async Task SendErrorAndCloseOutputAsync(WebSocket socket, int closeCode, string code, string detail, CancellationToken ct)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["type"] = "error",
            ["error"] = detail,
            ["code"] = code,
        }, ServerJsonContext.Wire.DictionaryStringString);
        await socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, ct);
        await socket.CloseOutputAsync((WebSocketCloseStatus)closeCode, CloseReason(detail), ct);
    }

    /// <summary>A close frame's reason is at most 123 UTF-8 bytes.</summary>
    internal static string CloseReason(string detail)
    {
        var text = detail;
        while (System.Text.Encoding.UTF8.GetByteCount(text) > 123)
        {
            text = text[..^1];
        }
        return text;
    }

    /// <summary>Waits (briefly) for the client's close frame so the closing handshake completes cleanly.</summary>
    private static async Task DrainUntilClosedAsync(WebSocket socket, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        var buffer = new byte[1024];
        while (socket.State == WebSocketState.CloseSent)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
        }
    }
}
