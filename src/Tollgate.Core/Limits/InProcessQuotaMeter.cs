using System.Collections.Concurrent;

namespace Tollgate.Limits;

/// <summary>
/// The embedded quota meter: one lock-free counter per (pool, month), seeded once from the ledger's committed total
/// the first time the pool is seen in that month. A new month is simply a new counter, so rollover needs no sweep.
/// </summary>
internal sealed class InProcessQuotaMeter(Func<PoolKey, MonthPeriod, long> committedTotal) : IQuotaMeter
{
    private readonly ConcurrentDictionary<(PoolKey Pool, int Month), Lazy<QuotaCounter>> _counters = new();

    public long Remaining(PoolKey pool, MonthPeriod period, long limitMs) =>
        Math.Max(0, limitMs - Counter(pool, period).Consumed);

    public bool TryReserve(PoolKey pool, MonthPeriod period, long limitMs, long ms, out QuotaReservation reservation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ms);
        var counter = Counter(pool, period);
        reservation = new QuotaReservation { Counter = counter };
        if (ms == 0)
        {
            return counter.Consumed <= limitMs;
        }
        var granted = counter.Take(limitMs, ms, exact: true);
        reservation.Milliseconds = granted;
        return granted == ms;
    }

    public long ReserveUpTo(PoolKey pool, MonthPeriod period, long limitMs, long ms, ref QuotaReservation reservation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ms);
        var counter = Counter(pool, period);
        if (reservation.Counter is null)
        {
            reservation.Counter = counter;
        }
        else if (!ReferenceEquals(reservation.Counter, counter))
        {
            throw new InvalidOperationException("A reservation belongs to one pool and one month.");
        }
        var granted = counter.Take(limitMs, ms, exact: false);
        reservation.Milliseconds += granted;
        return granted;
    }

    public void Commit(in QuotaReservation reservation, long chargedMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chargedMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chargedMs, reservation.Milliseconds);
        reservation.Counter?.Settle(reservation.Milliseconds, chargedMs);
    }

    public void Release(in QuotaReservation reservation) => reservation.Counter?.Settle(reservation.Milliseconds, 0);

    public void Return(ref QuotaReservation reservation, long ms)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ms);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ms, reservation.Milliseconds);
        reservation.Counter?.Settle(ms, 0);
        reservation.Milliseconds -= ms;
    }

    public PoolUsage Usage(PoolKey pool, MonthPeriod period)
    {
        var counter = Counter(pool, period);
        var committed = counter.Committed;
        return new PoolUsage(committed, Math.Max(0, counter.Consumed - committed));
    }

    private QuotaCounter Counter(PoolKey pool, MonthPeriod period)
    {
        var key = (pool, period.Index);
        if (!_counters.TryGetValue(key, out var lazy))
        {
            // Lazy so the ledger is read once per (pool, month) even when many requests arrive together.
            lazy = _counters.GetOrAdd(key, static (k, load) => new Lazy<QuotaCounter>(
                () => new QuotaCounter(load(k.Pool, MonthFromIndex(k.Month)))), committedTotal);
        }
        return lazy.Value;
    }

    private static MonthPeriod MonthFromIndex(int index) => new(index / 12, index % 12 + 1);
}
