using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tollgate.Observability;

/// <summary>
/// Tollgate's own instruments, on one <see cref="Meter"/> named <see cref="MeterName"/> (the server creates it through
/// <c>IMeterFactory</c>). Names, units and tags follow the OpenTelemetry semantic conventions: dotted lower-case names,
/// UCUM units, no <c>_total</c> suffixes; tags are built only when an instrument is enabled, on the stack.
/// </summary>
internal sealed class TollgateMetrics
{
    public const string MeterName = "Tollgate";

    public const string SurfaceTag = "tollgate.surface";
    public const string ModelTag = "tollgate.model";
    public const string OutcomeTag = "tollgate.outcome";
    public const string CodeTag = "tollgate.code";
    public const string RuleTag = "tollgate.rule";
    public const string StoreTag = "tollgate.store";

    private readonly Counter<long> _decisions;
    private readonly Histogram<double> _admissionDuration;
    private readonly Histogram<double> _requestDuration;
    private readonly UpDownCounter<long> _leases;
    private readonly Counter<long> _reserved;
    private readonly Counter<long> _committed;
    private readonly Counter<long> _windowDecisions;
    private readonly Counter<long> _settleFailures;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _failOpen;

    public TollgateMetrics(Meter meter)
    {
        _decisions = meter.CreateCounter<long>("tollgate.admission.decisions", "{request}",
            "Admission decisions, by surface, model, outcome (admitted or rejected) and the rejection's code.");
        _admissionDuration = meter.CreateHistogram<double>("tollgate.admission.duration", "s",
            "Time spent in the admission steps (authentication to quota), by surface and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05] });
        _requestDuration = meter.CreateHistogram<double>("tollgate.request.duration", "s",
            "Duration of admitted requests from admission to settlement (charge recorded, lease freed), by surface and model.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _leases = meter.CreateUpDownCounter<long>("tollgate.leases.active", "{lease}",
            "Concurrency leases held by this node, by model.");
        _reserved = meter.CreateCounter<long>("tollgate.quota.reserved", "ms",
            "Audio milliseconds reserved against monthly quotas, by model.");
        _committed = meter.CreateCounter<long>("tollgate.quota.committed", "ms",
            "Audio milliseconds charged to the ledger, by model.");
        _windowDecisions = meter.CreateCounter<long>("tollgate.rate_limit.decisions", "{request}",
            "Request-rate window decisions, by surface, outcome and rule (the blocking rule when rejected, else the most restrictive).");
        _settleFailures = meter.CreateCounter<long>("tollgate.settle.failures", "{request}",
            "Metered requests whose charge could not be recorded (the ledger refused the write), by model.");
        _authFailures = meter.CreateCounter<long>("tollgate.auth.failures", "{request}",
            "Failed authentications (a malformed, unknown or revoked key, a wrong admin token), by surface, the failure's code and outcome (refused: 401; throttled: 429, the source address was past its limit).");
        _failOpen = meter.CreateCounter<long>("tollgate.redis.fail_open", "{decision}",
            "Decisions made by this node's own in-process limiter because Redis did not answer (Tollgate:Redis:FailureMode=Open), by store (windows, leases, quota).");
    }

    public void Admission(string surface, string? model, string? rejectionCode, long startTimestamp)
    {
        if (_decisions.Enabled)
        {
            var tags = new TagList
            {
                { SurfaceTag, surface },
                { OutcomeTag, rejectionCode is null ? "admitted" : "rejected" },
            };
            if (model is not null)
            {
                tags.Add(ModelTag, model);
            }
            if (rejectionCode is not null)
            {
                tags.Add(CodeTag, rejectionCode);
            }
            _decisions.Add(1, tags);
        }
        if (_admissionDuration.Enabled)
        {
            _admissionDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
                new KeyValuePair<string, object?>(SurfaceTag, surface),
                new KeyValuePair<string, object?>(OutcomeTag, rejectionCode is null ? "admitted" : "rejected"));
        }
    }

    public void RequestCompleted(string surface, string? model, long startTimestamp)
    {
        if (_requestDuration.Enabled)
        {
            _requestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
                new KeyValuePair<string, object?>(SurfaceTag, surface),
                new KeyValuePair<string, object?>(ModelTag, model));
        }
    }

    public void RateWindow(string surface, string rule, bool admitted)
    {
        if (_windowDecisions.Enabled)
        {
            _windowDecisions.Add(1,
                new KeyValuePair<string, object?>(SurfaceTag, surface),
                new KeyValuePair<string, object?>(OutcomeTag, admitted ? "admitted" : "rejected"),
                new KeyValuePair<string, object?>(RuleTag, rule));
        }
    }

    public void LeaseAcquired(string model)
    {
        if (_leases.Enabled)
        {
            _leases.Add(1, new KeyValuePair<string, object?>(ModelTag, model));
        }
    }

    public void LeaseReleased(string model)
    {
        if (_leases.Enabled)
        {
            _leases.Add(-1, new KeyValuePair<string, object?>(ModelTag, model));
        }
    }

    public void QuotaReserved(string model, long ms)
    {
        if (ms > 0 && _reserved.Enabled)
        {
            _reserved.Add(ms, new KeyValuePair<string, object?>(ModelTag, model));
        }
    }

    public void QuotaCommitted(string model, long ms)
    {
        if (ms > 0 && _committed.Enabled)
        {
            _committed.Add(ms, new KeyValuePair<string, object?>(ModelTag, model));
        }
    }

    public void AuthFailure(string surface, string code, bool throttled)
    {
        if (_authFailures.Enabled)
        {
            _authFailures.Add(1,
                new KeyValuePair<string, object?>(SurfaceTag, surface),
                new KeyValuePair<string, object?>(CodeTag, code),
                new KeyValuePair<string, object?>(OutcomeTag, throttled ? "throttled" : "refused"));
        }
    }

    public void RedisFailOpen(string store)
    {
        if (_failOpen.Enabled)
        {
            _failOpen.Add(1, new KeyValuePair<string, object?>(StoreTag, store));
        }
    }

    public void SettleFailed(string model)
    {
        if (_settleFailures.Enabled)
        {
            _settleFailures.Add(1, new KeyValuePair<string, object?>(ModelTag, model));
        }
    }
}
