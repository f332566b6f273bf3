using Tollgate.Limits;

namespace Tollgate.Distributed.Redis.FailOpen;

/// <summary>
/// Quotas in Redis, or, while Redis does not answer, in this node's own in-process meter (seeded from the ledger, so
/// it knows what was committed; it does not know what other nodes hold in flight). A reservation begun locally stays
/// local until it is settled (the in-process meter's ids are below <see cref="RedisQuotaMeter.FirstId"/>); a Redis
/// reservation that cannot grow because Redis went away mid-request is granted what it asks, and the commit, which
/// goes to the ledger first, is delivered to Redis when it answers again.
/// </summary>
internal sealed class FailOpenQuotaMeter(IQuotaMeter redis, IQuotaMeter local, FailOpenGuard guard) : IQuotaMeter
{
    private static bool IsLocal(in QuotaReservation reservation) => reservation.Id is > 0 and < RedisQuotaMeter.FirstId;

    public async ValueTask<QuotaGrant> ReserveAsync(QuotaReservation reservation, long ms, ReserveMode mode, CancellationToken cancellationToken = default)
    {
        if (IsLocal(reservation))
        {
            return await local.ReserveAsync(reservation, ms, mode, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return await redis.ReserveAsync(reservation, ms, mode, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && guard.FallBack(ex, "quota"))
        {
            if (reservation.Id == 0)
            {
                return await local.ReserveAsync(reservation, ms, mode, cancellationToken).ConfigureAwait(false);
            }
            return new QuotaGrant(reservation with { Milliseconds = reservation.Milliseconds + ms }, ms, 0, false);
        }
    }

    public ValueTask CommitAsync(QuotaReservation reservation, long chargedMs, CancellationToken cancellationToken = default) =>
        IsLocal(reservation) ? local.CommitAsync(reservation, chargedMs, cancellationToken) : redis.CommitAsync(reservation, chargedMs, cancellationToken);

    public ValueTask ReleaseAsync(QuotaReservation reservation, CancellationToken cancellationToken = default) =>
        IsLocal(reservation) ? local.ReleaseAsync(reservation, cancellationToken) : redis.ReleaseAsync(reservation, cancellationToken);

    public async ValueTask<QuotaStanding> StandingAsync(QuotaScope scope, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.StandingAsync(scope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && guard.FallBack(ex, "quota"))
        {
            return await local.StandingAsync(scope, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<PoolUsage> UsageAsync(PoolKey pool, MonthPeriod period, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.UsageAsync(pool, period, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && RedisFailures.IsUnavailable(ex))
        {
            return await local.UsageAsync(pool, period, cancellationToken).ConfigureAwait(false);
        }
    }
}
