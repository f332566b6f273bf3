using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Tollgate.Metering;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// The ordering rule of DESIGN 3.2, in one place: a metered request's charge is durable and its lease free
/// <em>before</em> the client can see the end of the answer — the response's last byte, or the WebSocket's close frame.
/// Whatever writes the answer (the reference backend, an upstream relay, an error path), it writes through this gate:
/// <list type="bullet">
/// <item>HTTP: the answer is held in memory (up to <see cref="HeldAnswerBytes"/>) until
/// <see cref="MeteredCall.SettleAsync"/> has finished, so nothing of it leaves before its charge is durable; then it
/// is sent whole, with its length. When the charge could not be recorded (the ledger's store did not answer) the held
/// answer is dropped and the client gets 503 <c>store_unavailable</c> instead, charged nothing. A longer answer (an
/// upstream's large transcript) starts going out once it passes that size, without a <c>Content-Length</c>
/// (chunked, or HTTP/2 frames), and only its completion — the terminating chunk, or END_STREAM — is held; if its
/// charge then cannot be recorded it is aborted instead of completed.</item>
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
        var body = new SettlingResponseBody(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>(), context.Response);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        return new Gate(context, body, null);
    }

    /// <summary>
    /// Drops the bytes of an answer the gate holds and has not sent (the response has not started for the client), so
    /// that an error answer written now is the whole answer. Nothing to do outside a metered call, or once the answer
    /// has started going out (then it can only be aborted).
    /// </summary>
    public static void DropUnsentAnswer(HttpContext context)
    {
        if (!context.Response.HasStarted && context.Features.Get<IHttpResponseBodyFeature>() is SettlingResponseBody { PassingThrough: false } body)
        {
            body.Discard();
        }
    }

    /// <summary>How much of a metered answer is held until its charge is recorded (beyond it, only the answer's end is held).</summary>
    public const int HeldAnswerBytes = 1024 * 1024;

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
                body.Discard();
                return; // the exception handler answers, through the real body (nothing held has been sent)
            }
            if (!recorded)
            {
                if (body.PassingThrough)
                {
                    // The client has part of an answer whose charge is not recorded: it must not see it complete.
                    context.Abort();
                    return;
                }
                // Nothing of the answer has left: the client is told the truth instead, and nothing was charged.
                body.Discard();
                context.Response.Clear();
                await new Rejection(StatusCodes.Status503ServiceUnavailable, CloseCodes.InternalError, ErrorCodes.StoreUnavailable,
                    "This request's usage could not be recorded (a store is unreachable right now), so its answer was withheld and nothing was charged. Retry shortly.",
                    RetryAfterSeconds: 1).WriteAsync(context);
                return;
            }
            if (!body.PassingThrough)
            {
                await body.SendHeldAsync();
            }
            else if (body.CompletionRequested)
            {
                await body.Inner.CompleteAsync();
            }
        }
    }

    /// <summary>
    /// Holds the answer (its start, headers and bytes) until the call has settled, up to <see cref="HeldAnswerBytes"/>;
    /// past that, passes it through and holds back only its completion.
    /// </summary>
    internal sealed class SettlingResponseBody : PipeWriter, IHttpResponseBodyFeature
    {
        private readonly IHttpResponseBodyFeature _inner;
        private readonly HttpResponse _response;
        private Pipe? _held;
        private long _heldBytes;
        private long _unflushed;
        private Stream? _stream;

        public SettlingResponseBody(IHttpResponseBodyFeature inner, HttpResponse response)
        {
            _inner = inner;
            _response = response;
        }

        public IHttpResponseBodyFeature Inner => _inner;

        public bool CompletionRequested { get; private set; }

        /// <summary>Whether the answer has started going out (it outgrew the hold, or was sent as a file).</summary>
        public bool PassingThrough { get; private set; }

        public Stream Stream => _stream ??= AsStream(leaveOpen: true);

        public PipeWriter Writer => this;

        public void DisableBuffering() => _inner.DisableBuffering();

        /// <summary>Starting is deferred while the answer is held (it starts when it is sent).</summary>
        public Task StartAsync(CancellationToken cancellationToken = default) =>
            PassingThrough ? _inner.StartAsync(cancellationToken) : Task.CompletedTask;

        public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        {
            await PassThroughAsync(cancellationToken);
            await _inner.SendFileAsync(path, offset, count, cancellationToken);
        }

        /// <summary>Flushes what was written but keeps the answer open until the call has settled.</summary>
        public async Task CompleteAsync()
        {
            CompletionRequested = true;
            await FlushAsync();
        }

        private PipeWriter Target => PassingThrough ? _inner.Writer : (_held ??= new Pipe(HoldOptions)).Writer;

        public override bool CanGetUnflushedBytes => true;

        /// <summary>Written since the last flush (the serializer flushes by it).</summary>
        public override long UnflushedBytes => _unflushed;

        public override void Advance(int bytes)
        {
            if (!PassingThrough)
            {
                _heldBytes += bytes;
            }
            _unflushed += bytes;
            Target.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => Target.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => Target.GetSpan(sizeHint);

        public override void CancelPendingFlush() => Target.CancelPendingFlush();

        /// <summary>The endpoint finished writing: the answer stays held (or open) until the call settles.</summary>
        public override void Complete(Exception? exception = null)
        {
        }

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            _unflushed = 0;
            if (PassingThrough)
            {
                return await _inner.Writer.FlushAsync(cancellationToken);
            }
            if (_heldBytes > HeldAnswerBytes)
            {
                await PassThroughAsync(cancellationToken);
                return await _inner.Writer.FlushAsync(cancellationToken);
            }
            return new FlushResult(isCanceled: false, isCompleted: false);
        }

        /// <summary>The charge is recorded: the held answer goes out whole, with its length.</summary>
        public async Task SendHeldAsync()
        {
            if (_heldBytes == 0 && _held is null)
            {
                return; // nothing written: the server answers the status and headers as they are
            }
            if (!_response.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.TransferEncoding))
            {
                _response.ContentLength = _heldBytes;
            }
            await CopyHeldAsync(CancellationToken.None);
            await _inner.Writer.FlushAsync();
        }

        /// <summary>Drops what is held (nothing of it was sent).</summary>
        public void Discard()
        {
            if (_held is { } held && !PassingThrough)
            {
                held.Writer.Complete();
                held.Reader.Complete();
            }
            _held = null;
            _heldBytes = 0;
            _unflushed = 0;
        }

        /// <summary>
        /// The answer outgrew the hold (or is a file): it starts now, without a length, so that the client can only know
        /// it is complete when the server completes it — after the call has settled.
        /// </summary>
        private async Task PassThroughAsync(CancellationToken cancellationToken)
        {
            if (PassingThrough)
            {
                return;
            }
            _response.ContentLength = null;
            await CopyHeldAsync(cancellationToken);
            PassingThrough = true;
        }

        private async Task CopyHeldAsync(CancellationToken cancellationToken)
        {
            if (_held is not { } held)
            {
                return;
            }
            await held.Writer.FlushAsync(cancellationToken);
            held.Writer.Complete();
            while (held.Reader.TryRead(out var read))
            {
                foreach (var segment in read.Buffer)
                {
                    _inner.Writer.Write(segment.Span);
                }
                held.Reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
            held.Reader.Complete();
            _held = null;
        }

        /// <summary>A held pipe never makes its writer wait (nobody reads it until the call settles).</summary>
        private static readonly PipeOptions HoldOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);
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
