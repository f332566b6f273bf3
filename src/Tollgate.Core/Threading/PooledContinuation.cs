using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Tollgate.Threading;

/// <summary>
/// <c>map(state, await source)</c> as a <see cref="ValueTask{TResult}"/> whose source object is pooled: what an
/// <c>async</c> method that awaits one value and maps it costs, without its state machine box. The box of a
/// <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/> is kept one per thread and core, so with dozens of
/// requests waiting on Redis at once nearly every one still allocated its own (~250 B on <c>GET /v1/me</c>); these are
/// kept in a queue as deep as the number of waits in flight. The result is consumed once, as any ValueTask's. The map
/// runs where the source completes, in the starter's <see cref="ExecutionContext"/> (its activity, its log scopes), as
/// an awaiting method's code would; an exception of the map is the result's, and so is one of the source unless a
/// <c>recover</c> is given, whose answer (a value, an exception, or a wait: allocate there, it is the rare path) then is.
/// </summary>
internal sealed class PooledContinuation<TSource, TState, TResult> : IValueTaskSource<TResult>
{
    private const int MaxPooled = 4_096;
    private static readonly ConcurrentQueue<PooledContinuation<TSource, TState, TResult>> Pool = new();
    private static int s_pooled;
    private static readonly ContextCallback InContext = static self => ((PooledContinuation<TSource, TState, TResult>)self!).Complete();

    private readonly Action _sourceCompleted;
    private readonly Action _recoveryCompleted;
    private ManualResetValueTaskSourceCore<TResult> _core;
    private ConfiguredValueTaskAwaitable<TSource>.ConfiguredValueTaskAwaiter _source;
    private ConfiguredValueTaskAwaitable<TResult>.ConfiguredValueTaskAwaiter _recovery;
    private TState _state = default!;
    private Func<TState, TSource, TResult> _map = null!;
    private Func<TState, Exception, ValueTask<TResult>>? _recover;
    private ExecutionContext? _context;

    private PooledContinuation()
    {
        _sourceCompleted = SourceCompleted;
        _recoveryCompleted = RecoveryCompleted;
    }

    public static ValueTask<TResult> Start(ValueTask<TSource> source, TState state, Func<TState, TSource, TResult> map,
        Func<TState, Exception, ValueTask<TResult>>? recover = null)
    {
        if (!Pool.TryDequeue(out var continuation))
        {
            continuation = new PooledContinuation<TSource, TState, TResult>();
        }
        else
        {
            Interlocked.Decrement(ref s_pooled);
        }
        continuation._state = state;
        continuation._map = map;
        continuation._recover = recover;
        continuation._context = ExecutionContext.Capture();
        continuation._source = source.ConfigureAwait(false).GetAwaiter();
        var token = continuation._core.Version;
        continuation._source.UnsafeOnCompleted(continuation._sourceCompleted);
        return new ValueTask<TResult>(continuation, token);
    }

    private void SourceCompleted()
    {
        if (_context is { } context)
        {
            _context = null;
            ExecutionContext.Run(context, InContext, this);
        }
        else
        {
            Complete();
        }
    }

    private void Complete()
    {
        var source = _source;
        var state = _state;
        var map = _map;
        var recover = _recover;
        _source = default;
        _state = default!;
        _map = null!;
        _recover = null;
        TSource value;
        try
        {
            value = source.GetResult();
        }
        catch (Exception ex) when (recover is not null)
        {
            Recover(recover, state, ex);
            return;
        }
        catch (Exception ex)
        {
            _core.SetException(ex);
            return;
        }
        TResult result;
        try
        {
            result = map(state, value);
        }
        catch (Exception ex)
        {
            _core.SetException(ex);
            return;
        }
        _core.SetResult(result);
    }

    private void Recover(Func<TState, Exception, ValueTask<TResult>> recover, TState state, Exception failure)
    {
        try
        {
            _recovery = recover(state, failure).ConfigureAwait(false).GetAwaiter();
        }
        catch (Exception ex)
        {
            _core.SetException(ex);
            return;
        }
        _recovery.UnsafeOnCompleted(_recoveryCompleted);
    }

    private void RecoveryCompleted()
    {
        var recovery = _recovery;
        _recovery = default;
        TResult result;
        try
        {
            result = recovery.GetResult();
        }
        catch (Exception ex)
        {
            _core.SetException(ex);
            return;
        }
        _core.SetResult(result);
    }

    public TResult GetResult(short token)
    {
        var current = token == _core.Version;
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Only the owner of the current result recycles it (a stale token only gets the exception).
            if (current)
            {
                _core.Reset();
                if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
                {
                    Pool.Enqueue(this);
                }
                else
                {
                    Interlocked.Decrement(ref s_pooled);
                }
            }
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
