using System.Threading.Channels;

namespace Tollgate.Client.Bulk;

/// <summary>How a <see cref="TollgateWorkQueue{T}"/> runs.</summary>
public sealed record TollgateWorkQueueOptions
{
    /// <summary>Items that may wait in the queue; <see cref="TollgateWorkQueue{T}.EnqueueAsync"/> waits while it is full. Default 64.</summary>
    public int Capacity { get; init; } = 64;

    /// <summary>
    /// Items handled at once; default 4. The clients' concurrency gate still bounds requests in flight per model: give
    /// more workers than the key's concurrency (twice it, say), so that a slot freed by an answer is taken at once by an
    /// item waiting at the gate rather than after its worker has finished with the answer and fetched the next item.
    /// </summary>
    public int Workers { get; init; } = 4;

    /// <summary>Whether the exception of a handler stops the whole queue (items not started are dropped); default: a used-up quota or a refused key.</summary>
    public Func<Exception, bool> StopsQueue { get; init; } = static ex => ex is TollgateQuotaExceededException or TollgateAuthenticationException;
}

/// <summary>
/// A bounded queue for bulk work (a backlog of files, a batch of dubs) with back-pressure: producers wait while
/// <see cref="TollgateWorkQueueOptions.Capacity"/> items are queued, <see cref="TollgateWorkQueueOptions.Workers"/> handle
/// them, and an exception that makes further work pointless (a used-up quota, a refused key) stops it at once: items
/// not started are not handled and <see cref="EnqueueAsync"/> answers <see langword="false"/>; items already in
/// progress finish (their requests were admitted: cancelling them would throw away work the server is doing). Only the
/// constructor's token and <see cref="DisposeAsync"/> cancel items in progress.
/// </summary>
/// <typeparam name="T">One unit of work.</typeparam>
public sealed class TollgateWorkQueue<T> : IAsyncDisposable
{
    private readonly Channel<T> _channel;
    private readonly Func<T, CancellationToken, Task> _handler;
    private readonly TollgateWorkQueueOptions _options;
    private readonly CancellationTokenSource _stop;
    private readonly CancellationTokenSource _abort;
    private readonly Task _workers;
    private Exception? _stopReason;
    private long _handled;
    private long _failed;
    private long _dropped;
    private int _running;

    /// <summary>Starts the workers.</summary>
    /// <param name="handler">Handles one item; it is given a token cancelled when <paramref name="cancellationToken"/> is or the queue is disposed.
    /// An exception it throws counts the item as failed (and stops the queue if <see cref="TollgateWorkQueueOptions.StopsQueue"/> says so).</param>
    /// <param name="options">Capacity, workers, what stops the queue; default <see cref="TollgateWorkQueueOptions"/>'s defaults.</param>
    /// <param name="cancellationToken">Stops the queue (items in progress are cancelled).</param>
    public TollgateWorkQueue(Func<T, CancellationToken, Task> handler, TollgateWorkQueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _options = options ?? new();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Capacity, 1, "options.Capacity");
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Workers, 1, "options.Workers");
        _handler = handler;
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(_options.Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = _options.Workers == 1,
        });
        _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        _workers = Task.WhenAll(Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(WorkAsync)));
    }

    /// <summary>Items waiting in the queue.</summary>
    public int Queued => _channel.Reader.Count;

    /// <summary>Items being handled now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Items whose handler returned.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>Items whose handler threw.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Items queued but never handled because the queue stopped.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Why the queue stopped early (the handler's exception), or null.</summary>
    public Exception? StopReason => Volatile.Read(ref _stopReason);

    /// <summary>Whether the queue has stopped taking work (stopped early or cancelled).</summary>
    public bool IsStopped => _stop.IsCancellationRequested;

    /// <summary>Adds an item, waiting while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Stops waiting for room.</param>
    /// <returns><see langword="false"/> when the queue has stopped: the item will not be handled.</returns>
    public async ValueTask<bool> EnqueueAsync(T item, CancellationToken cancellationToken = default)
    {
        if (_stop.IsCancellationRequested)
        {
            return false;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        try
        {
            await _channel.Writer.WriteAsync(item, linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    /// <summary>Says no more items come, and waits until every queued item is handled (or the queue stopped).</summary>
    /// <returns>The reason the queue stopped early, or null when everything queued was handled.</returns>
    public async Task<Exception?> CompleteAsync()
    {
        _channel.Writer.TryComplete();
        await _workers.ConfigureAwait(false);
        while (_channel.Reader.TryRead(out _))
        {
            Interlocked.Increment(ref _dropped);
        }
        return StopReason;
    }

    private async Task WorkAsync()
    {
        try
        {
            await foreach (var item in _channel.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                if (_stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
                }
                Interlocked.Increment(ref _running);
                try
                {
                    await _handler(item, _abort.Token).ConfigureAwait(false);
                    Interlocked.Increment(ref _handled);
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _dropped);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _failed);
                    if (_options.StopsQueue(ex))
                    {
                        Interlocked.CompareExchange(ref _stopReason, ex, null);
                        await _stop.CancelAsync().ConfigureAwait(false);
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped: what is left in the channel is counted as dropped by CompleteAsync.
        }
    }

    /// <summary>Stops the queue (items in progress are cancelled) and waits for the workers.</summary>
    public async ValueTask DisposeAsync()
    {
        await _abort.CancelAsync().ConfigureAwait(false);
        _channel.Writer.TryComplete();
        try
        {
            await _workers.ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
            _abort.Dispose();
        }
    }
}
