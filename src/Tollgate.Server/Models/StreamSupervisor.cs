using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Models;

/// <summary>
/// Watches every open stream of this node, so that none can hold its concurrency slot when it should not:
/// <list type="bullet">
/// <item>a stream that sends no audio for <c>Tollgate:Streams:IdleTimeout</c> gets an <c>error</c>
/// (<c>idle_timeout</c>) and close 1008;</item>
/// <item>when the server stops (SIGTERM), before Kestrel stops, every open stream gets an <c>error</c>
/// (<c>server_shutting_down</c>) and close 1001, and the shutdown waits for them: each close settles the stream's
/// metering first (<see cref="SettlementGate"/>), so what it sent is charged and its lease freed before the process ends.</item>
/// </list>
/// </summary>
internal sealed partial class StreamSupervisor(IOptions<StreamOptions> options, TimeProvider time, ILogger<StreamSupervisor> logger) : IHostedLifecycleService
{
    private readonly ConcurrentDictionary<SupervisedWebSocket, byte> _open = new();
    private readonly TimeSpan _idle = options.Value.IdleTimeoutValue;
    private volatile bool _stopping;

    internal const string ShuttingDownDetail = "The server is shutting down. The audio this stream sent so far has been charged; reconnect to continue.";

    /// <summary>Streams open right now.</summary>
    public int OpenCount => _open.Count;

    /// <summary>Wraps an accepted socket: every send and close of the stream goes through the result.</summary>
    public SupervisedWebSocket Watch(WebSocket socket)
    {
        var supervised = new SupervisedWebSocket(socket, this, time, _idle);
        _open.TryAdd(supervised, 0);
        if (_stopping)
        {
            // Accepted while the server was already stopping: told at once rather than left to be cut off.
            _ = supervised.TerminateAsync(CloseCodes.GoingAway, ErrorCodes.ServerShuttingDown, ShuttingDownDetail);
        }
        else
        {
            supervised.StartIdleWatch();
        }
        return supervised;
    }

    internal void Forget(SupervisedWebSocket socket) => _open.TryRemove(socket, out _);

    internal void IdleTimedOut(SupervisedWebSocket socket)
    {
        LogIdle(logger, _idle.TotalSeconds);
        _ = socket.TerminateAsync(CloseCodes.PolicyViolation, ErrorCodes.IdleTimeout, string.Create(CultureInfo.InvariantCulture,
            $"No audio arrived for {_idle.TotalSeconds:0.###} s, so the stream was closed to free its slot. Send audio as it is captured, and end a stream with an empty text frame."));
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        var open = _open.Keys.ToList();
        if (open.Count == 0)
        {
            return;
        }
        LogShuttingDown(logger, open.Count);
        try
        {
            await Task.WhenAll(open.Select(s => s.TerminateAsync(CloseCodes.GoingAway, ErrorCodes.ServerShuttingDown, ShuttingDownDetail)))
                .WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shutdown timeout passed first: Kestrel aborts what is left, and each stream settles as it unwinds.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Debug, Message = "A stream sent no audio for {Seconds} s: closed 1008")]
    private static partial void LogIdle(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: closing {Count} open streams (1001) after settling their usage")]
    private static partial void LogShuttingDown(ILogger logger, int count);
}

/// <summary>
/// An accepted stream's socket as its backend sees it. Sends are serialized, so the server can end the stream from
/// outside (idle, shutdown) with an <c>error</c> message and a close without interleaving with the backend's own
/// messages; after that the backend's sends fail as on a closed socket, and its pending receive sees the client's close.
/// Audio frames received reset the idle clock; the empty text frame that ends a stream stops it.
/// </summary>
internal sealed class SupervisedWebSocket : WebSocket
{
    private const int Open = 0;
    private const int ClosingByBackend = 1;
    private const int Terminated = 2;

    /// <summary>How long a terminated stream's client has to answer the close before the connection is dropped.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly WebSocket _inner;
    private readonly StreamSupervisor _supervisor;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idle;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly TaskCompletionSource _peerClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITimer? _idleTimer;
    private long _lastAudio;
    private int _state;
    private bool _inTextMessage;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal SupervisedWebSocket(WebSocket inner, StreamSupervisor supervisor, TimeProvider time, TimeSpan idle)
    {
        _inner = inner;
        _supervisor = supervisor;
        _time = time;
        _idle = idle;
        _lastAudio = time.GetTimestamp();
    }

    /// <summary>Whether the server ended the stream itself (idle, shutdown): the backend has nothing more to say.</summary>
    public bool WasTerminated => Volatile.Read(ref _state) == Terminated;

    public override WebSocketCloseStatus? CloseStatus => _inner.CloseStatus;

    public override string? CloseStatusDescription => _inner.CloseStatusDescription;

    public override WebSocketState State => _inner.State;

    public override string? SubProtocol => _inner.SubProtocol;

    internal void StartIdleWatch() => _idleTimer = _time.CreateTimer(static s => ((SupervisedWebSocket)s!).CheckIdle(), this, _idle, Timeout.InfiniteTimeSpan);

    private void CheckIdle()
    {
        if (Volatile.Read(ref _state) != Open)
        {
            return;
        }
        var quiet = _time.GetElapsedTime(Volatile.Read(ref _lastAudio));
        if (quiet >= _idle)
        {
            _supervisor.IdleTimedOut(this);
            return;
        }
        try
        {
            _idleTimer?.Change(_idle - quiet, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void StopIdleWatch()
    {
        try
        {
            _idleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Ends the stream from the server's side: the streaming contracts' <c>error</c> message, then the close (which
    /// settles the stream's metering first). Does nothing when the stream is already closing.
    /// </summary>
    public Task TerminateAsync(int closeCode, string code, string detail)
    {
        var was = Interlocked.CompareExchange(ref _state, Terminated, Open);
        if (was != Open)
        {
            // Already ended by the server (wait for that), or being closed by its backend (which settles it).
            return was == Terminated ? _terminated.Task : Task.CompletedTask;
        }
        StopIdleWatch();
        _ = RunTerminationAsync(closeCode, code, detail);
        return _terminated.Task;
    }

    private async Task RunTerminationAsync(int closeCode, string code, string detail)
    {
        try
        {
            await TerminateCoreAsync(closeCode, code, detail).ConfigureAwait(false);
        }
        finally
        {
            _terminated.TrySetResult();
        }
    }

    private async Task TerminateCoreAsync(int closeCode, string code, string detail)
    {
        await _send.WaitAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
            var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
            {
                ["type"] = "error",
                ["error"] = detail,
                ["code"] = code,
            }, ServerJsonContext.Wire.DictionaryStringString);
            if (_inner.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _inner.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, timeout.Token).ConfigureAwait(false);
            }
            // Through the settlement gate: the usage is recorded and the lease freed before the close frame leaves.
            await _inner.CloseOutputAsync((WebSocketCloseStatus)closeCode, Rejection.CloseReason(detail), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client is gone or not reading: drop the connection; the stream settles as it unwinds.
            _inner.Abort();
            return;
        }
        finally
        {
            _send.Release();
        }
        // The backend's receive sees the client's close and unwinds; a client that never answers is dropped.
        using var grace = new CancellationTokenSource(CloseGrace, _time);
        try
        {
            await _peerClosed.Task.WaitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _inner.Abort();
        }
    }

    public override void Abort() => _inner.Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        BackendCloseAsync(static (s, st, d, ct) => s.CloseAsync(st, d, ct), closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        BackendCloseAsync(static (s, st, d, ct) => s.CloseOutputAsync(st, d, ct), closeStatus, statusDescription, cancellationToken);

    private async Task BackendCloseAsync(Func<WebSocket, WebSocketCloseStatus, string?, CancellationToken, Task> close,
        WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, ClosingByBackend, Open) == Terminated)
        {
            // The server already ended the stream (its close is sent or being sent).
            await _terminated.Task.ConfigureAwait(false);
            return;
        }
        StopIdleWatch();
        await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await close(_inner, closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _send.Release();
        }
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            Observe(result.MessageType, result.Count, result.EndOfMessage);
            return result;
        }
        catch
        {
            _peerClosed.TrySetResult();
            throw;
        }
    }

    // Pooled state machines for the per-frame calls: a stream receives and sends one frame at a time for as long as it lasts.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            Observe(result.MessageType, result.Count, result.EndOfMessage);
            return result;
        }
        catch
        {
            _peerClosed.TrySetResult();
            throw;
        }
    }

    private void Observe(WebSocketMessageType type, int count, bool endOfMessage)
    {
        switch (type)
        {
            case WebSocketMessageType.Binary when count > 0:
                Volatile.Write(ref _lastAudio, _time.GetTimestamp());
                break;
            case WebSocketMessageType.Text:
                if (endOfMessage && count == 0 && !_inTextMessage)
                {
                    // The end-of-stream frame: from here the stream waits for the server, which is not idling.
                    StopIdleWatch();
                }
                _inTextMessage = !endOfMessage;
                break;
            case WebSocketMessageType.Close:
                _peerClosed.TrySetResult();
                break;
        }
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.None, cancellationToken).AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer, messageType, endOfMessage ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.None, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _state) == Terminated)
            {
                throw new WebSocketException(WebSocketError.InvalidState, "The server has closed this stream.");
            }
            await _inner.SendAsync(buffer, messageType, messageFlags, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _send.Release();
        }
    }

    public override void Dispose()
    {
        _supervisor.Forget(this);
        _idleTimer?.Dispose();
        _peerClosed.TrySetResult();
        _inner.Dispose();
    }
}
