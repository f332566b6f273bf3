using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tollgate.Metering;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Admission;

/// <summary>
/// Counts admission refusals in memory per (organization, UTC hour, status, code) until <see cref="RejectionFlusher"/>
/// adds them to the <see cref="IRejectionStore"/>. Counting a refusal is a dictionary look-up and an interlocked
/// increment: no lock, and no allocation once its (organization, hour, status, code) has been seen.
/// </summary>
internal sealed class RejectionCounter(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string OrgId, long HourTicks, int Status, string Code), StrongBox<long>> _counts = new();

    /// <param name="orgId">The caller's organization; null when no key identified one.</param>
    public void Count(string? orgId, int status, string code)
    {
        var now = time.GetUtcNow().UtcTicks;
        var key = (orgId ?? "", now - now % TimeSpan.TicksPerHour, status, code);
        var box = _counts.GetOrAdd(key, static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
    }

    /// <summary>
    /// Takes every count made since the last drain (each counter back to 0, none lost to a concurrent increment) and
    /// forgets counters of hours that ended more than an hour ago (nothing counts into them any more).
    /// </summary>
    public List<RejectionCount> Drain()
    {
        var drained = new List<RejectionCount>();
        var now = time.GetUtcNow().UtcTicks;
        var stale = now - now % TimeSpan.TicksPerHour - TimeSpan.TicksPerHour;
        foreach (var (key, box) in _counts)
        {
            if (key.HourTicks < stale)
            {
                _counts.TryRemove(key, out _);
            }
            var n = Interlocked.Exchange(ref box.Value, 0);
            if (n > 0)
            {
                drained.Add(new RejectionCount(key.OrgId.Length == 0 ? null : key.OrgId, new DateTimeOffset(key.HourTicks, TimeSpan.Zero), key.Status, key.Code, n));
            }
        }
        return drained;
    }

    /// <summary>Gives counts back that could not be written, so the next flush writes them.</summary>
    public void Return(IEnumerable<RejectionCount> counts)
    {
        foreach (var c in counts)
        {
            var box = _counts.GetOrAdd((c.OrgId ?? "", c.Hour.UtcTicks, c.Status, c.Code), static _ => new StrongBox<long>());
            Interlocked.Add(ref box.Value, c.Count);
        }
    }
}

/// <summary>Adds the refusals counted on this node to the store every two seconds and at shutdown, never per request.</summary>
internal sealed partial class RejectionFlusher(RejectionCounter counter, IRejectionStore store, TimeProvider time, ILogger<RejectionFlusher> logger)
    : PeriodicFlusher(Interval, time)
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>Writes what was counted since the last flush; on failure the counts wait for the next one.</summary>
    public override async Task FlushAsync(CancellationToken ct)
    {
        var counts = counter.Drain();
        if (counts.Count == 0)
        {
            return;
        }
        try
        {
            await store.AddAsync(counts, ct);
        }
        catch (Exception ex)
        {
            counter.Return(counts);
            LogFlushFailed(logger, ex, counts.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record {Count} rejection counts; they are kept for the next flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception ex, int count);
}
