using Microsoft.Extensions.Logging;
using Tollgate.Observability;

namespace Tollgate.Distributed.Redis.FailOpen;

/// <summary>
/// Decides, for <c>Tollgate:Redis:FailureMode=Open</c>, that a failed Redis call is answered by the node's own
/// in-process store instead: counts it (<c>tollgate.redis.fail_open</c>) and logs it, at most once every 10 s per store.
/// </summary>
internal sealed partial class FailOpenGuard(TollgateMetrics metrics, TimeProvider time, ILogger<FailOpenGuard> logger)
{
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private long _nextLogTicks;

    /// <summary>True when <paramref name="ex"/> means Redis is unavailable: the caller then decides locally.</summary>
    public bool FallBack(Exception ex, string store)
    {
        if (!RedisFailures.IsUnavailable(ex))
        {
            return false;
        }
        metrics.RedisFailOpen(store);
        var now = time.GetTimestamp();
        var due = Volatile.Read(ref _nextLogTicks);
        if (now >= due && Interlocked.CompareExchange(ref _nextLogTicks, now + (long)(LogEvery.TotalSeconds * time.TimestampFrequency), due) == due)
        {
            LogFailingOpen(logger, ex, store);
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis did not answer ({Store}): admitting under this node's own limits (FailureMode=Open) until it does")]
    private static partial void LogFailingOpen(ILogger logger, Exception ex, string store);
}
