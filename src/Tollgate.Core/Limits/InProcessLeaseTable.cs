using System.Collections.Concurrent;

namespace Tollgate.Limits;

/// <summary>
/// The embedded lease table: one lock-free counter per pool (compare-and-swap below the limit), found in a
/// concurrent dictionary. No global lock, no allocation once a pool has been seen.
/// </summary>
internal sealed class InProcessLeaseTable : ILeaseTable
{
    private readonly ConcurrentDictionary<PoolKey, LeaseSlot> _slots = new();

    public bool TryAcquire(PoolKey pool, int limit, out Lease lease)
    {
        var slot = _slots.TryGetValue(pool, out var found) ? found : _slots.GetOrAdd(pool, static _ => new LeaseSlot());
        if (slot.TryTake(limit))
        {
            lease = new Lease(slot);
            return true;
        }
        lease = default;
        return false;
    }

    public int InFlight(PoolKey pool) => _slots.TryGetValue(pool, out var slot) ? slot.Held : 0;
}
