using Tollgate.RateLimiting;

namespace Tollgate.Distributed.Redis.FailOpen;

/// <summary>Rate windows in Redis, or in this node's memory while Redis does not answer (each node then counts alone).</summary>
internal sealed class FailOpenWindowCounter(IWindowCounter redis, IWindowCounter local, FailOpenGuard guard) : IWindowCounter
{
    public async ValueTask<WindowDecision> TryAcquireAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.TryAcquireAsync(partition, rules, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && guard.FallBack(ex, "windows"))
        {
            return await local.TryAcquireAsync(partition, rules, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<IReadOnlyList<WindowUsage>> PeekAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.PeekAsync(partition, rules, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && guard.FallBack(ex, "windows"))
        {
            return await local.PeekAsync(partition, rules, cancellationToken).ConfigureAwait(false);
        }
    }
}
