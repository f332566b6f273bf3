using System.Diagnostics.Metrics;

namespace Tollgate.Client.Behavior;

/// <summary>
/// The SDK's instruments, on the <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/> (listen with
/// OpenTelemetry's <c>AddMeter("Tollgate.Client")</c>, <c>dotnet-counters monitor --counters Tollgate.Client</c>, or a
/// <see cref="MeterListener"/>):
/// <list type="bullet">
/// <item><c>tollgate.client.requests</c> (counter, <c>{request}</c>): every attempt sent, tagged <c>http.request.method</c>
/// and <c>http.response.status_code</c> (0 when no answer came).</item>
/// <item><c>tollgate.client.rate_limited</c> (counter, <c>{response}</c>): 429 answers, tagged <c>tollgate.outcome</c>
/// <c>absorbed</c> (retried) or <c>surfaced</c> (raised to the caller), and <c>tollgate.code</c>.</item>
/// <item><c>tollgate.client.wait</c> (histogram, <c>s</c>): time spent waiting, tagged <c>tollgate.wait.reason</c>:
/// <c>concurrency_gate</c>, <c>rate_window</c>, <c>retry_backoff</c> or <c>poll</c>.</item>
/// </list>
/// </summary>
public static class TollgateClientMetrics
{
    /// <summary>The meter's name: <c>Tollgate.Client</c>.</summary>
    public const string MeterName = "Tollgate.Client";

    internal static readonly Meter Meter = new(MeterName, typeof(TollgateClientMetrics).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Requests = Meter.CreateCounter<long>("tollgate.client.requests", "{request}", "Attempts sent to the server.");

    internal static readonly Counter<long> RateLimited = Meter.CreateCounter<long>("tollgate.client.rate_limited", "{response}", "429 answers, absorbed by a retry or surfaced.");

    internal static readonly Histogram<double> Wait = Meter.CreateHistogram<double>("tollgate.client.wait", "s", "Time spent waiting before sending.");

    internal const string GateReason = "concurrency_gate";
    internal const string RateWindowReason = "rate_window";
    internal const string BackoffReason = "retry_backoff";
    internal const string PollReason = "poll";
}

/// <summary>
/// Running totals of one <see cref="TollgateClientBehavior"/> (the same events as <see cref="TollgateClientMetrics"/>, for a
/// progress display or a test that has no listener). Thread-safe; each property reads the live value.
/// </summary>
public sealed class TollgateClientStatistics
{
    private long _requests;
    private long _rateLimited;
    private long _absorbed;
    private long _gateWaitTicks;
    private long _rateWindowWaitTicks;
    private long _backoffWaitTicks;
    private long _pollWaitTicks;
    private long _polls;

    /// <summary>Attempts sent (retries included).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>429 answers received, absorbed or not.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>429 answers absorbed: retried after a wait instead of raised.</summary>
    public long RateLimitedAbsorbed => Interlocked.Read(ref _absorbed);

    /// <summary>Status reads of jobs, dubs and voices made by the wait helpers.</summary>
    public long Polls => Interlocked.Read(ref _polls);

    /// <summary>Total time requests waited for a concurrency slot.</summary>
    public TimeSpan ConcurrencyGateWait => TimeSpan.FromTicks(Interlocked.Read(ref _gateWaitTicks));

    /// <summary>Total time requests waited for a rate window to reset.</summary>
    public TimeSpan RateWindowWait => TimeSpan.FromTicks(Interlocked.Read(ref _rateWindowWaitTicks));

    /// <summary>Total time spent in backoff before retrying a 429.</summary>
    public TimeSpan RetryBackoffWait => TimeSpan.FromTicks(Interlocked.Read(ref _backoffWaitTicks));

    /// <summary>Total time the wait helpers slept between two status reads.</summary>
    public TimeSpan PollWait => TimeSpan.FromTicks(Interlocked.Read(ref _pollWaitTicks));

    internal void Request(string method, int status)
    {
        Interlocked.Increment(ref _requests);
        TollgateClientMetrics.Requests.Add(1, new("http.request.method", method), new("http.response.status_code", status));
    }

    internal void TooManyRequests(bool absorbed, string? code)
    {
        Interlocked.Increment(ref _rateLimited);
        if (absorbed)
        {
            Interlocked.Increment(ref _absorbed);
        }
        TollgateClientMetrics.RateLimited.Add(1, new("tollgate.outcome", absorbed ? "absorbed" : "surfaced"), new("tollgate.code", code ?? ""));
    }

    internal void Waited(string reason, TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
        {
            return;
        }
        switch (reason)
        {
            case TollgateClientMetrics.GateReason:
                Interlocked.Add(ref _gateWaitTicks, wait.Ticks);
                break;
            case TollgateClientMetrics.RateWindowReason:
                Interlocked.Add(ref _rateWindowWaitTicks, wait.Ticks);
                break;
            case TollgateClientMetrics.BackoffReason:
                Interlocked.Add(ref _backoffWaitTicks, wait.Ticks);
                break;
            default:
                Interlocked.Add(ref _pollWaitTicks, wait.Ticks);
                break;
        }
        TollgateClientMetrics.Wait.Record(wait.TotalSeconds, new KeyValuePair<string, object?>("tollgate.wait.reason", reason));
    }

    internal void Polled() => Interlocked.Increment(ref _polls);
}
