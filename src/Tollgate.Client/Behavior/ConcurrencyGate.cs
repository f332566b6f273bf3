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
/// the queue without taking a slot. A freed slot is handed over at once: the waiter that takes it goes on on the thread
/// that freed it, up to its request's first wait (on the wire), before the request that freed it carries on; it is not
/// queued behind that request's reading of its answer and whatever its caller does next.
/// </summary>
internal sealed class ConcurrencyGate
{
    /// <summary>Set while a waiter runs on in <see cref="HandOver"/>: a slot it frees at once is handed on from the pool, not nested.</summary>
    [ThreadStatic]
    private static bool t_handingOver;

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

    /// <summary>Requests waiting for a slot.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
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
            // Continuations run on the thread that completes it: see HandOver.
            waiter = new TaskCompletionSource();
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
                // From the pool, as before: the caller's code after its await does not run inside its Cancel().
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Waiter.TrySetCanceled(s.Token), (Waiter: waiter, Token: ct), preferLocal: false);
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

    /// <summary>Gives the waiters their slots (called outside the lock).</summary>
    private void Wake(List<TaskCompletionSource>? wake)
    {
        foreach (var waiter in wake ?? [])
        {
            if (t_handingOver)
            {
                // A woken waiter freed a slot before its first wait (cancelled, failed at once): a run of those would
                // nest one stack frame per waiter, so the next hand-over starts from the pool.
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Gate.HandOver(s.Waiter), (Gate: this, Waiter: waiter), preferLocal: false);
            }
            else
            {
                HandOver(waiter);
            }
        }
    }

    /// <summary>
    /// Completes a waiter's wait on this thread: its continuation (the SDK's own code: the rest of the request through
    /// the pipeline to the transport) runs inline until it first waits, so the next request is on the wire before the
    /// one that freed the slot reads its answer. Nothing holds the gate's lock here.
    /// </summary>
    private void HandOver(TaskCompletionSource waiter)
    {
        bool taken;
        t_handingOver = true;
        try
        {
            taken = waiter.TrySetResult();
        }
        finally
        {
            t_handingOver = false;
        }
        if (!taken)
        {
            // Cancelled between leaving the queue and being woken: hand its slot on.
            Exit();
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
