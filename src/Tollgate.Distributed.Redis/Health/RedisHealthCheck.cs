using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Tollgate.Distributed.Redis.Health;

/// <summary>
/// Readiness of the distributed hot-path state: the node's own multiplexer (the one every decision uses, not a second
/// connection) answers a PING. While it does not, the node refuses what needs Redis with 503 <c>store_unavailable</c>
/// (<see cref="RedisFailureMode.Closed"/>): unhealthy, so a load balancer sends its traffic elsewhere; or it admits
/// under its own in-process limits (<see cref="RedisFailureMode.Open"/>): degraded, still ready. The message names the
/// endpoints, never a password.
/// </summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis, RedisFailureMode mode) : IHealthCheck
{
    /// <summary>The name the check is registered under (in <c>/readyz</c>'s answer).</summary>
    public const string Name = "redis";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var endpoints = string.Join(", ", redis.GetEndPoints().Select(e => e.ToString()));
        try
        {
            if (!redis.IsConnected)
            {
                return Failed($"Redis at {endpoints} is not connected (the node keeps reconnecting)");
            }
            var rtt = await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(FormattableString.Invariant($"Redis at {endpoints} ({rtt.TotalMilliseconds:0.0} ms)"));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Failed($"Redis at {endpoints} does not answer: {ex.Message}");
        }
    }

    private HealthCheckResult Failed(string what) => mode == RedisFailureMode.Open
        ? HealthCheckResult.Degraded(what + "; admitting under this node's own limits (FailureMode=Open)")
        : HealthCheckResult.Unhealthy(what + "; refusing with 503 store_unavailable (FailureMode=Closed)");
}
