namespace Tollgate.Limits;

/// <summary>
/// Monthly audio-time quotas per (organization, model) pool (DESIGN 3.3), in milliseconds. Every call is atomic
/// against the pool's counter, so parallel requests can never together exceed a limit; a distributed implementation
/// honours the same contract in one round trip. The meter holds what is committed (from the ledger) plus what is
/// reserved by requests in flight; the ledger, not the meter, is the durable record.
/// </summary>
public interface IQuotaMeter
{
    /// <summary>Milliseconds left in <paramref name="period"/> for a pool judged by <paramref name="limitMs"/> (never negative).</summary>
    long Remaining(PoolKey pool, MonthPeriod period, long limitMs);

    /// <summary>Reserves exactly <paramref name="ms"/> if it fits under <paramref name="limitMs"/>; otherwise reserves nothing.</summary>
    bool TryReserve(PoolKey pool, MonthPeriod period, long limitMs, long ms, out QuotaReservation reservation);

    /// <summary>Reserves as much of <paramref name="ms"/> as fits (possibly 0) and returns that amount, adding it to <paramref name="reservation"/>.</summary>
    long ReserveUpTo(PoolKey pool, MonthPeriod period, long limitMs, long ms, ref QuotaReservation reservation);

    /// <summary>Turns <paramref name="chargedMs"/> (≤ reserved) of a reservation into usage and returns the rest.</summary>
    void Commit(in QuotaReservation reservation, long chargedMs);

    /// <summary>Returns the whole reservation: the request failed and nothing is charged.</summary>
    void Release(in QuotaReservation reservation);

    /// <summary>Returns <paramref name="ms"/> (≤ held) of a reservation and keeps the rest held.</summary>
    void Return(ref QuotaReservation reservation, long ms);

    /// <summary>Committed and reserved milliseconds of a pool in a period.</summary>
    PoolUsage Usage(PoolKey pool, MonthPeriod period);
}

/// <summary>Audio time a request holds against one pool's counter until it commits or releases.</summary>
public struct QuotaReservation
{
    internal QuotaCounter? Counter;

    /// <summary>Milliseconds held.</summary>
    public long Milliseconds { get; internal set; }

    public readonly bool IsEmpty => Counter is null || Milliseconds == 0;
}

/// <summary>A pool's figures for one month.</summary>
public readonly record struct PoolUsage(long CommittedMs, long ReservedMs);

/// <summary>One pool's counter for one month: committed + reserved, changed only by compare-and-swap.</summary>
internal sealed class QuotaCounter(long committedMs)
{
    private long _consumed = committedMs;
    private long _committed = committedMs;

    public long Consumed => Volatile.Read(ref _consumed);

    public long Committed => Volatile.Read(ref _committed);

    /// <summary>Adds up to <paramref name="ms"/> (all of it when <paramref name="exact"/>) without passing <paramref name="limit"/>.</summary>
    public long Take(long limit, long ms, bool exact)
    {
        var current = Volatile.Read(ref _consumed);
        while (true)
        {
            var room = Math.Max(0, limit - current);
            var granted = Math.Min(room, ms);
            if (granted <= 0 || (exact && granted < ms))
            {
                return 0;
            }
            var seen = Interlocked.CompareExchange(ref _consumed, current + granted, current);
            if (seen == current)
            {
                return granted;
            }
            current = seen;
        }
    }

    public void Settle(long reservedMs, long chargedMs)
    {
        if (chargedMs > 0)
        {
            Interlocked.Add(ref _committed, chargedMs);
        }
        if (reservedMs > chargedMs)
        {
            Interlocked.Add(ref _consumed, chargedMs - reservedMs);
        }
    }
}
