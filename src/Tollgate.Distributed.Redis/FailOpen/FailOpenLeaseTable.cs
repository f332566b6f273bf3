using Tollgate.Limits;

namespace Tollgate.Distributed.Redis.FailOpen;

/// <summary>
/// Leases in Redis, or in this node's memory while Redis does not answer (each node then enforces the limit alone). A
/// lease names the table that issued it, so each is renewed and released where it was taken.
/// </summary>
internal sealed class FailOpenLeaseTable(ILeaseTable redis, ILeaseTable local, FailOpenGuard guard) : ILeaseTable
{
    public async ValueTask<LeaseAcquisition> TryAcquireAsync(PoolKey pool, int limit, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.TryAcquireAsync(pool, limit, ttl, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && guard.FallBack(ex, "leases"))
        {
            return await local.TryAcquireAsync(pool, limit, ttl, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<int> CountAsync(PoolKey pool, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.CountAsync(pool, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && RedisFailures.IsUnavailable(ex))
        {
            return await local.CountAsync(pool, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask RenewHeldAsync(CancellationToken cancellationToken = default)
    {
        await local.RenewHeldAsync(cancellationToken).ConfigureAwait(false);
        await redis.RenewHeldAsync(cancellationToken).ConfigureAwait(false);
    }
}
