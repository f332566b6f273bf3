using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Tollgate.Metering;

namespace Tollgate.Server.Admission;

/// <summary>
/// The ordering rule of DESIGN 3.2, in one place: a metered request's charge is durable and its lease free
/// <em>before</em> the client can see the end of the answer — the response's last byte, or the WebSocket's close frame.
/// Whatever writes the answer (the reference backend, an upstream relay, an error path), it writes through this gate:
/// <list type="bullet">
/// <item>HTTP: the answer goes out without a <c>Content-Length</c> (chunked, or HTTP/2 frames), and its completion —
/// the terminating chunk, or END_STREAM — is held until <see cref="MeteredCall.SettleAsync"/> has finished. An answer
/// whose charge could not be recorded is aborted instead of completed.</item>
/// <item>WebSocket: the accepted socket is wrapped, and every close (by the backend, a relay, a cut-off, a refusal)
/// first settles the call; a charge that could not be recorded turns the close into 1011.</item>
/// </list>
/// </summary>
internal static class SettlementGate
{
    /// <summary>Installs the gate on a metered request; <see cref="Gate.ReleaseAsync"/> completes what the gate held.</summary>
    public static Gate Install(HttpContext context, MeteredCall call)
    {
        if (context.WebSockets.IsWebSocketRequest)
        {
            var inner = context.Features.GetRequiredFeature<IHttpWebSocketFeature>();
            var feature = new SettlingWebSocketFeature(inner, call);
            context.Features.Set<IHttpWebSocketFeature>(feature);
            return new Gate(context, null, feature);
        }
        var body = new SettlingResponseBody(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
        context.Features.Set<IHttpResponseBodyFeature>(body);
        context.Response.OnStarting(static state =>
        {
            // Without a length the client can only know the answer is complete when the server completes it.
            ((HttpResponse)state).Headers.ContentLength = null;
            return Task.CompletedTask;
        }, context.Response);
        return new Gate(context, body, null);
    }

    internal readonly struct Gate(HttpContext context, SettlingResponseBody? body, SettlingWebSocketFeature? webSocket)
    {
        /// <summary>
        /// After the endpoint returned and the call settled: puts the real features back and, for HTTP, completes the
        /// answer if the endpoint asked to (or aborts it when <paramref name="recorded"/> is false and it was started).
        /// </summary>
        public async ValueTask ReleaseAsync(bool recorded, bool endpointFailed)
        {
            if (webSocket is not null)
            {
                context.Features.Set(webSocket.Inner);
                return;
            }
            context.Features.Set(body!.Inner);
            if (endpointFailed)
            {
                return; // the exception handler answers, through the real body
            }
            if (!recorded && context.Response.HasStarted)
            {
                // The client has part of an answer whose charge is not recorded: it must not see it complete.
                context.Abort();
                return;
            }
            if (body.CompletionRequested)
            {
                await body.Inner.CompleteAsync();
            }
        }
    }

    /// <summary>Passes the body through and holds back its completion.</summary>
    internal sealed class SettlingResponseBody(IHttpResponseBodyFeature inner) : IHttpResponseBodyFeature
    {
        public IHttpResponseBodyFeature Inner => inner;

        public bool CompletionRequested { get; private set; }

        public Stream Stream => inner.Stream;

        public PipeWriter Writer => inner.Writer;

        public void DisableBuffering() => inner.DisableBuffering();

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            inner.SendFileAsync(path, offset, count, cancellationToken);

        /// <summary>Flushes what was written but keeps the answer open until the call has settled.</summary>
        public async Task CompleteAsync()
        {
            CompletionRequested = true;
            await inner.Writer.FlushAsync();
        }
    }

    internal sealed class SettlingWebSocketFeature(IHttpWebSocketFeature inner, MeteredCall call) : IHttpWebSocketFeature
    {
        public IHttpWebSocketFeature Inner => inner;

        public bool IsWebSocketRequest => inner.IsWebSocketRequest;

        public async Task<WebSocket> AcceptAsync(WebSocketAcceptContext context) => new SettlingWebSocket(await inner.AcceptAsync(context), call);
    }

    /// <summary>A WebSocket whose close waits for the call to settle.</summary>
    internal sealed class SettlingWebSocket(WebSocket inner, MeteredCall call) : WebSocket
    {
        public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

        public override string? CloseStatusDescription => inner.CloseStatusDescription;

        public override WebSocketState State => inner.State;

        public override string? SubProtocol => inner.SubProtocol;

        public override void Abort() => inner.Abort();

        public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            var (status, description) = await SettleAsync(closeStatus, statusDescription);
            await inner.CloseAsync(status, description, cancellationToken);
        }

        public override async Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            var (status, description) = await SettleAsync(closeStatus, statusDescription);
            await inner.CloseOutputAsync(status, description, cancellationToken);
        }

        private async Task<(WebSocketCloseStatus, string?)> SettleAsync(WebSocketCloseStatus status, string? description) =>
            await call.SettleAsync()
                ? (status, description)
                : (WebSocketCloseStatus.InternalServerError, "The stream's usage could not be recorded.");

        public override void Dispose() => inner.Dispose();

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            inner.ReceiveAsync(buffer, cancellationToken);

        public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            inner.ReceiveAsync(buffer, cancellationToken);

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken) =>
            inner.SendAsync(buffer, messageType, messageFlags, cancellationToken);
    }
}
