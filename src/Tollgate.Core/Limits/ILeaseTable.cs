namespace Tollgate.Limits;

/// <summary>
/// Concurrency leases per (organization, model) pool (DESIGN 3.2). <see cref="TryAcquire"/> is atomic: it either
/// takes a slot below <c>limit</c> or takes nothing; it never waits. A distributed implementation honours the same
/// contract in one round trip (a Redis script over a sorted set of lease expiries).
/// </summary>
public interface ILeaseTable
{
    /// <summary>Takes one slot of <paramref name="pool"/> if fewer than <paramref name="limit"/> are held.</summary>
    bool TryAcquire(PoolKey pool, int limit, out Lease lease);

    /// <summary>Slots of <paramref name="pool"/> held right now.</summary>
    int InFlight(PoolKey pool);
}

/// <summary>
/// A held slot. Release it exactly once (the admission step does so in a <c>finally</c>, which runs however the
/// request ends: completion, failure, timeout or the client going away). <c>default</c> holds nothing.
/// </summary>
public readonly struct Lease
{
    private readonly LeaseSlot? _slot;

    internal Lease(LeaseSlot slot) => _slot = slot;

    public bool IsHeld => _slot is not null;

    public void Release() => _slot?.Release();
}

/// <summary>The shared counter behind the leases of one pool (an implementation detail of the in-process table).</summary>
internal sealed class LeaseSlot
{
    private int _held;

    public int Held => Volatile.Read(ref _held);

    public bool TryTake(int limit)
    {
        var current = Volatile.Read(ref _held);
        while (current < limit)
        {
            var seen = Interlocked.CompareExchange(ref _held, current + 1, current);
            if (seen == current)
            {
                return true;
            }
            current = seen;
        }
        return false;
    }

    public void Release()
    {
        var held = Interlocked.Decrement(ref _held);
        System.Diagnostics.Debug.Assert(held >= 0, "A concurrency lease was released twice.");
    }
}
