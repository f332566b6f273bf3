using System.Collections.Concurrent;

namespace Tollgate.RateLimiting;

/// <summary>
/// The embedded <see cref="IWindowCounter"/>: counters in memory, one small lock per partition (user), no global lock.
/// Completes synchronously and, once a partition exists, without allocating.
/// </summary>
/// <remarks>
/// <para>
/// Exactness: a partition's counters are read, checked and incremented under that partition's lock, so decisions on
/// one partition are linearizable — for any interleaving, the admitted requests in a window never exceed its limit,
/// and a rejected request leaves every counter as it found it. Partitions share nothing, so users never contend.
/// </para>
/// <para>
/// Memory: a partition whose windows have all ended holds nothing that matters (every window would start from 0).
/// A sweep, started from the request path at most once per sweep interval of <see cref="TimeProvider"/> time and run on
/// the thread pool, removes such partitions. A request that raced with the sweep notices (the partition is marked
/// removed under its lock) and starts over on a fresh partition, so no count is ever lost. No background timer.
/// </para>
/// </remarks>
internal sealed class InProcessWindowCounter : IWindowCounter
{
    private static readonly TimeSpan DefaultSweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Partition> _partitions = new(); // ordinal; non-randomized hashing until collisions
    private readonly TimeProvider _time;
    private readonly long _sweepIntervalTicks;
    private readonly bool _sweepInline;
    private readonly SweepWorkItem _sweepWorkItem;
    private long _nextSweepTicks;

    public InProcessWindowCounter(TimeProvider timeProvider)
        : this(timeProvider, DefaultSweepInterval, sweepInline: false)
    {
    }

    /// <param name="sweepInline">Sweep on the calling thread instead of the thread pool (deterministic tests).</param>
    internal InProcessWindowCounter(TimeProvider timeProvider, TimeSpan sweepInterval, bool sweepInline)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sweepInterval, TimeSpan.Zero);
        _time = timeProvider;
        _sweepIntervalTicks = sweepInterval.Ticks;
        _sweepInline = sweepInline;
        _sweepWorkItem = new SweepWorkItem(this);
        _nextSweepTicks = Now() + _sweepIntervalTicks;
    }

    /// <summary>Partitions currently held (tests and diagnostics).</summary>
    internal int PartitionCount => _partitions.Count;

    /// <inheritdoc />
    public ValueTask<WindowDecision> TryAcquireAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<WindowDecision>(cancellationToken)
            : new ValueTask<WindowDecision>(TryAcquire(partition, rules));

    /// <summary>The synchronous form of <see cref="TryAcquireAsync"/>: same contract.</summary>
    public WindowDecision TryAcquire(string partition, RuleSet rules)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.IsEmpty)
        {
            return default;
        }
        var now = Now();
        MaybeSweep(now);
        while (true)
        {
            var state = _partitions.GetOrAdd(partition, static _ => new Partition());
            lock (state.Gate)
            {
                if (!state.Removed)
                {
                    return state.Acquire(rules.Items, now);
                }
            }
            // The sweep removed this partition between our look-up and our lock: its windows had all ended, so
            // starting over on a fresh one changes nothing.
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<WindowUsage>> PeekAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        ArgumentNullException.ThrowIfNull(rules);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IReadOnlyList<WindowUsage>>(cancellationToken);
        }
        var now = Now();
        var usage = new WindowUsage[rules.Count];
        // Never creates a partition: a user with none has counted nothing.
        if (_partitions.TryGetValue(partition, out var state))
        {
            lock (state.Gate)
            {
                state.Peek(rules.Items, now, usage);
            }
        }
        else
        {
            Partition.Empty(rules.Items, now, usage);
        }
        return new ValueTask<IReadOnlyList<WindowUsage>>(usage);
    }

    /// <summary>Removes every partition whose windows have all ended; gives how many were removed.</summary>
    internal int Sweep()
    {
        var now = Now();
        var removed = 0;
        foreach (var entry in _partitions)
        {
            var state = entry.Value;
            if (Volatile.Read(ref state.ExpiresAtTicks) > now)
            {
                continue;
            }
            lock (state.Gate)
            {
                if (!state.Removed && state.ExpiresAtTicks <= now)
                {
                    state.Removed = true;
                    _partitions.TryRemove(entry);
                    removed++;
                }
            }
        }
        return removed;
    }

    private void MaybeSweep(long now)
    {
        var due = Volatile.Read(ref _nextSweepTicks);
        if (now < due || Interlocked.CompareExchange(ref _nextSweepTicks, now + _sweepIntervalTicks, due) != due)
        {
            return;
        }
        if (_sweepInline)
        {
            Sweep();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(_sweepWorkItem, preferLocal: false);
        }
    }

    private long Now() => FixedWindow.UnixTicks(_time.GetUtcNow());

    private sealed class SweepWorkItem(InProcessWindowCounter owner) : IThreadPoolWorkItem
    {
        public void Execute() => owner.Sweep();
    }

    /// <summary>One user's counters. Every field is guarded by <see cref="Gate"/> (<see cref="ExpiresAtTicks"/> is also read racily by the sweep as a hint).</summary>
    private sealed class Partition
    {
        private const int MaxStackRules = 16;

        public readonly Lock Gate = new();
        public bool Removed;

        /// <summary>Unix ticks at which the last window holding a count ends; 0 until something is counted.</summary>
        public long ExpiresAtTicks;

        private Counter[] _counters = new Counter[4];
        private int _count;

        public WindowDecision Acquire(RateRule[] rules, long now)
        {
            Span<int> slots = rules.Length <= MaxStackRules ? stackalloc int[MaxStackRules] : new int[rules.Length];
            var admitted = true;
            for (var i = 0; i < rules.Length; i++)
            {
                var rule = rules[i];
                var slot = Find(rule, now);
                slots[i] = slot;
                ref var counter = ref _counters[slot];
                var index = FixedWindow.Index(now, counter.WindowTicks);
                // A clock that steps back keeps counting in the later window: never a second budget for the same time.
                if (index > counter.Index)
                {
                    counter.Index = index;
                    counter.Count = 0;
                }
                admitted &= counter.Count < rule.Limit;
            }

            if (admitted)
            {
                for (var i = 0; i < rules.Length; i++)
                {
                    ref var counter = ref _counters[slots[i]];
                    counter.Count++;
                    var end = counter.EndTicks;
                    if (end > ExpiresAtTicks)
                    {
                        Volatile.Write(ref ExpiresAtTicks, end);
                    }
                }
            }

            Span<long> counts = rules.Length <= MaxStackRules ? stackalloc long[MaxStackRules] : new long[rules.Length];
            Span<long> ends = rules.Length <= MaxStackRules ? stackalloc long[MaxStackRules] : new long[rules.Length];
            for (var i = 0; i < rules.Length; i++)
            {
                ref readonly var counter = ref _counters[slots[i]];
                counts[i] = counter.Count;
                ends[i] = counter.EndTicks;
            }
            return WindowVerdict.Decide(rules, counts[..rules.Length], ends[..rules.Length], admitted, now);
        }

        /// <summary>Reads each rule's counter as <see cref="Acquire"/> would before counting (a removed partition reads empty); changes nothing.</summary>
        public void Peek(RateRule[] rules, long now, WindowUsage[] usage)
        {
            for (var i = 0; i < rules.Length; i++)
            {
                var rule = rules[i];
                var index = FixedWindow.Index(now, rule.WindowTicks);
                long count = 0;
                for (var j = 0; j < _count && !Removed; j++)
                {
                    ref readonly var counter = ref _counters[j];
                    if (counter.WindowTicks == rule.WindowTicks && string.Equals(counter.Name, rule.Name, StringComparison.OrdinalIgnoreCase)
                        && counter.Index >= index)
                    {
                        (index, count) = (counter.Index, counter.Count);
                        break;
                    }
                }
                usage[i] = new WindowUsage(rule, count, FixedWindow.ToUnixSeconds((index + 1) * rule.WindowTicks));
            }
        }

        /// <summary>Every rule at 0 in the window that contains <paramref name="now"/>.</summary>
        public static void Empty(RateRule[] rules, long now, WindowUsage[] usage)
        {
            for (var i = 0; i < rules.Length; i++)
            {
                var rule = rules[i];
                usage[i] = new WindowUsage(rule, 0, FixedWindow.ToUnixSeconds((FixedWindow.Index(now, rule.WindowTicks) + 1) * rule.WindowTicks));
            }
        }

        /// <summary>The slot of <paramref name="rule"/>'s counter, created (reusing an ended one if any) when missing.</summary>
        private int Find(RateRule rule, long now)
        {
            var windowTicks = rule.WindowTicks;
            for (var i = 0; i < _count; i++)
            {
                ref readonly var counter = ref _counters[i];
                if (counter.WindowTicks == windowTicks
                    && (ReferenceEquals(counter.Name, rule.Name) || string.Equals(counter.Name, rule.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    return i;
                }
            }
            // Rules changed (a new configuration): reclaim a counter whose window has ended before growing.
            var slot = -1;
            for (var i = 0; i < _count && slot < 0; i++)
            {
                if (_counters[i].EndTicks <= now)
                {
                    slot = i;
                }
            }
            if (slot < 0)
            {
                if (_count == _counters.Length)
                {
                    Array.Resize(ref _counters, _count * 2);
                }
                slot = _count++;
            }
            _counters[slot] = new Counter { Name = rule.Name, WindowTicks = windowTicks, Index = FixedWindow.Index(now, windowTicks), Count = 0 };
            return slot;
        }
    }

    private struct Counter
    {
        public string Name;
        public long WindowTicks;
        public long Index;
        public long Count;

        public readonly long EndTicks => (Index + 1) * WindowTicks;
    }
}
