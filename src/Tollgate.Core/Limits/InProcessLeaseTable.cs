using System.Collections.Concurrent;

namespace Tollgate.Limits;

/// <summary>
/// The embedded lease table: per pool, a small array of slots guarded by the pool's own lock (held for a few
/// instructions; pools never contend with each other). A lease is a slot index and a generation, so acquiring,
/// renewing and releasing allocate nothing once a pool has been seen, and a stale copy of a lease can never free a
/// slot that was since given to someone else. Expiry follows <see cref="TimeProvider.GetTimestamp"/>.
/// </summary>
internal sealed class InProcessLeaseTable(TimeProvider time) : ILeaseTable
{
    private readonly ConcurrentDictionary<PoolKey, PoolSlots> _pools = new();

    public ValueTask<LeaseAcquisition> TryAcquireAsync(PoolKey pool, int limit, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LeaseAcquisition>(cancellationToken);
        }
        var slots = _pools.TryGetValue(pool, out var found) ? found : _pools.GetOrAdd(pool, static (_, t) => new PoolSlots(t), time);
        return new ValueTask<LeaseAcquisition>(slots.TryTake(limit, ToTimestampTicks(ttl)));
    }

    public ValueTask<int> CountAsync(PoolKey pool, CancellationToken cancellationToken = default) =>
        new(_pools.TryGetValue(pool, out var slots) ? slots.Count() : 0);

    public ValueTask RenewHeldAsync(CancellationToken cancellationToken = default)
    {
        foreach (var slots in _pools.Values)
        {
            slots.RenewAll();
        }
        return ValueTask.CompletedTask;
    }

    private long ToTimestampTicks(TimeSpan ttl) =>
        (long)Math.Min(long.MaxValue / 4, ttl.TotalSeconds * time.TimestampFrequency);

    /// <summary>One pool's slots. Every field is guarded by <see cref="_gate"/>.</summary>
    private sealed class PoolSlots(TimeProvider time) : ILeaseOwner
    {
        private readonly Lock _gate = new();
        private Slot[] _slots = new Slot[4];
        private int[] _free = new int[4];
        private int _freeCount;
        private int _used;
        private int _held;

        public LeaseAcquisition TryTake(int limit, long ttlTicks)
        {
            var now = time.GetTimestamp();
            lock (_gate)
            {
                if (_held >= limit)
                {
                    SweepExpired(now);
                    if (_held >= limit)
                    {
                        return LeaseAcquisition.Refused(_held);
                    }
                }
                var index = _freeCount > 0 ? _free[--_freeCount] : NewSlot();
                ref var slot = ref _slots[index];
                slot.Held = true;
                slot.Generation++;
                slot.TtlTicks = ttlTicks;
                slot.ExpiresAt = now + ttlTicks;
                _held++;
                return LeaseAcquisition.Granted(new Lease(this, Token(index, slot.Generation)), _held);
            }
        }

        public int Count()
        {
            var now = time.GetTimestamp();
            lock (_gate)
            {
                SweepExpired(now);
                return _held;
            }
        }

        public void RenewAll()
        {
            var now = time.GetTimestamp();
            lock (_gate)
            {
                SweepExpired(now);
                for (var i = 0; i < _used; i++)
                {
                    ref var slot = ref _slots[i];
                    if (slot.Held)
                    {
                        slot.ExpiresAt = now + slot.TtlTicks;
                    }
                }
            }
        }

        public ValueTask<bool> RenewAsync(long token, TimeSpan ttl, CancellationToken cancellationToken)
        {
            var now = time.GetTimestamp();
            var ttlTicks = (long)Math.Min(long.MaxValue / 4, ttl.TotalSeconds * time.TimestampFrequency);
            lock (_gate)
            {
                if (!TryFind(token, now, out var index))
                {
                    return new ValueTask<bool>(false);
                }
                ref var slot = ref _slots[index];
                slot.TtlTicks = ttlTicks;
                slot.ExpiresAt = now + ttlTicks;
                return new ValueTask<bool>(true);
            }
        }

        public ValueTask ReleaseAsync(long token)
        {
            lock (_gate)
            {
                var index = (int)(token >> 32);
                if ((uint)index < (uint)_used && _slots[index].Held && _slots[index].Generation == (uint)token)
                {
                    Free(index);
                }
            }
            return ValueTask.CompletedTask;
        }

        /// <summary>The slot of a live lease; an expired one is freed and not found.</summary>
        private bool TryFind(long token, long now, out int index)
        {
            index = (int)(token >> 32);
            if ((uint)index >= (uint)_used || !_slots[index].Held || _slots[index].Generation != (uint)token)
            {
                return false;
            }
            if (_slots[index].ExpiresAt <= now)
            {
                Free(index);
                return false;
            }
            return true;
        }

        private void SweepExpired(long now)
        {
            for (var i = 0; i < _used; i++)
            {
                if (_slots[i].Held && _slots[i].ExpiresAt <= now)
                {
                    Free(i);
                }
            }
        }

        private void Free(int index)
        {
            _slots[index].Held = false;
            _free[_freeCount++] = index;
            _held--;
        }

        private int NewSlot()
        {
            if (_used == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
                Array.Resize(ref _free, _slots.Length);
            }
            return _used++;
        }

        private static long Token(int index, uint generation) => ((long)index << 32) | generation;

        private struct Slot
        {
            public long ExpiresAt;
            public long TtlTicks;
            public uint Generation;
            public bool Held;
        }
    }
}
