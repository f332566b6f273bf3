using Tollgate.Client.Behavior;

namespace Tollgate.Client.Http;

/// <summary>
/// Reads a status until it is final, never faster than <see cref="TollgateClientOptions.PollInterval"/> (at least 3 s)
/// plus a random jitter of up to <see cref="TollgateClientOptions.PollJitter"/>, and never sooner than the server's own
/// hint (<c>retry_after_seconds</c>, <c>Retry-After</c>) when it gives a longer one.
/// </summary>
internal sealed class Poller(TollgateClientOptions options, TimeProvider time, TollgateClientStatistics? statistics)
{
    /// <summary>One read: the value, whether it is final, and the server's hint for the next read.</summary>
    public readonly record struct Reading<T>(T Value, bool Final, TimeSpan? Hint);

    /// <param name="read">Reads the status once.</param>
    /// <param name="progress">Told each reading.</param>
    /// <param name="ct">Stops waiting.</param>
    /// <param name="waitFirst">Wait one interval before the first read (the caller has just read the status another way, e.g. a POST's answer).</param>
    public async Task<T> UntilFinalAsync<T>(Func<CancellationToken, Task<Reading<T>>> read, IProgress<T>? progress, CancellationToken ct, bool waitFirst = false)
    {
        if (waitFirst)
        {
            await SleepAsync(null, ct).ConfigureAwait(false);
        }
        while (true)
        {
            var reading = await read(ct).ConfigureAwait(false);
            statistics?.Polled();
            progress?.Report(reading.Value);
            if (reading.Final)
            {
                return reading.Value;
            }
            await SleepAsync(reading.Hint, ct).ConfigureAwait(false);
        }
    }

    private async Task SleepAsync(TimeSpan? hint, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        await Task.Delay(NextInterval(hint), time, ct).ConfigureAwait(false);
        statistics?.Waited(TollgateClientMetrics.PollReason, time.GetElapsedTime(started));
    }

    internal TimeSpan NextInterval(TimeSpan? hint)
    {
        var interval = options.PollInterval < TollgateClientOptions.MinimumPollInterval ? TollgateClientOptions.MinimumPollInterval : options.PollInterval;
        if (hint is { } h && h > interval)
        {
            interval = h;
        }
        var jitter = options.PollJitter <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * options.PollJitter.Ticks));
        return interval + jitter;
    }
}
