namespace Tollgate.Client.Behavior;

/// <summary>Where a <see cref="ConcurrencyGate"/>'s size came from.</summary>
public enum ConcurrencyLimitSource
{
    /// <summary>Not known yet: one request goes through alone, and its answer sizes the gate.</summary>
    Probing,

    /// <summary><see cref="TollgateClientOptions.MaxConcurrency"/>, or <see cref="TollgateClientBehavior.SetConcurrency"/>.</summary>
    Configured,

    /// <summary>The server's <c>RateLimit-Policy: "concurrency";q=N</c> field (Tollgate with <c>Tollgate__RateLimits__Headers=Ietf</c> or <c>Both</c>).</summary>
    Learned,

    /// <summary>The answer said nothing: <see cref="TollgateClientOptions.DefaultConcurrency"/>.</summary>
    Default,
}

/// <summary>
/// An async gate that lets at most <see cref="Limit"/> requests of one model be in flight at once, resizable while in use
/// (a smaller size takes effect as requests leave). Waiters are served first come, first served; a cancelled wait leaves
/// the queue without taking a slot.
/// </summary>
internal sealed class ConcurrencyGate
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiters = new();
    private int _inFlight;

    public ConcurrencyGate(int? configured)
    {
        if (configured is { } n)
        {
            Limit = n;
            Source = ConcurrencyLimitSource.Configured;
        }
        else
        {
            Limit = 1;
            Source = ConcurrencyLimitSource.Probing;
        }
    }

    /// <summary>The most requests let through at once (1 while probing).</summary>
    public int Limit { get; private set; }

    public ConcurrencyLimitSource Source { get; private set; }

    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>Waits for a slot; the returned value is disposed to free it (once).</summary>
    public ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (_inFlight < Limit && _waiters.Count == 0)
            {
                _inFlight++;
                return new ValueTask<Slot>(new Slot(this));
            }
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }
        return WaitAsync(waiter, node, cancellationToken);
    }

    private async ValueTask<Slot> WaitAsync(TaskCompletionSource waiter, LinkedListNode<TaskCompletionSource> node, CancellationToken ct)
    {
        await using (ct.Register(() =>
        {
            bool removed;
            lock (_lock)
            {
                removed = node.List is not null;
                if (removed)
                {
                    _waiters.Remove(node);
                }
            }
            if (removed)
            {
                waiter.TrySetCanceled(ct);
            }
        }).ConfigureAwait(false))
        {
            await waiter.Task.ConfigureAwait(false);
        }
        return new Slot(this);
    }

    /// <summary>
    /// Sets the size from a source; a configured size is never replaced by a learned or default one. Returns whether the
    /// size changed.
    /// </summary>
    public bool Resize(int limit, ConcurrencyLimitSource source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        List<TaskCompletionSource>? wake;
        lock (_lock)
        {
            if (Source == ConcurrencyLimitSource.Configured && source != ConcurrencyLimitSource.Configured)
            {
                return false;
            }
            if (Source == ConcurrencyLimitSource.Learned && source == ConcurrencyLimitSource.Default)
            {
                return false;
            }
            var changed = Limit != limit || Source != source;
            Limit = limit;
            Source = source;
            wake = TakeWaitersLocked();
            if (!changed)
            {
                Wake(wake);
                return false;
            }
        }
        Wake(wake);
        return true;
    }

    private void Exit()
    {
        List<TaskCompletionSource>? wake;
        lock (_lock)
        {
            _inFlight--;
            wake = TakeWaitersLocked();
        }
        Wake(wake);
    }

    /// <summary>The waiters that fit now, already counted in flight.</summary>
    private List<TaskCompletionSource>? TakeWaitersLocked()
    {
        List<TaskCompletionSource>? wake = null;
        while (_inFlight < Limit && _waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            _inFlight++;
            (wake ??= []).Add(first.Value);
        }
        return wake;
    }

    private void Wake(List<TaskCompletionSource>? wake)
    {
        foreach (var waiter in wake ?? [])
        {
            if (!waiter.TrySetResult())
            {
                // Cancelled between leaving the queue and being woken: hand its slot on.
                Exit();
            }
        }
    }

    /// <summary>A held slot; disposing it frees the slot once.</summary>
    public sealed class Slot(ConcurrencyGate gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Exit();
            }
        }
    }
}
