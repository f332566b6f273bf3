using System.Collections.Frozen;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Observability;

namespace Tollgate.Benchmarks.Limits;

/// <summary>
/// Steps 4 and 5 of admission for one request (DESIGN 3.2, 3.3): take a concurrency lease on the (organization,
/// model) pool, check the month has audio time left, release the lease when the request ends.
/// Baselines from System.Threading.RateLimiting: a bare <see cref="ConcurrencyLimiter"/> (acquire + dispose, no pool
/// lookup, no quota) and a <see cref="PartitionedRateLimiter"/> of concurrency limiters keyed by pool (the lookup
/// our table also does). Limits are high enough that every decision admits.
/// </summary>
[MemoryDiagnoser]
public class AdmissionDecisionBenchmarks
{
    private const string Model = "velma-2-stt-batch";
    private readonly ModelLimits _limits = new(1_000, 1_000);
    private Principal _principal = null!;
    private PoolKey _pool;
    private InProcessLeaseTable _leases = null!;
    private AudioQuota _quota = null!;
    private QuotaScope _scope;
    private ConcurrencyLimiter _limiter = null!;
    private PartitionedRateLimiter<PoolKey> _partitioned = null!;

    [GlobalSetup]
    public void Setup()
    {
        _principal = new ApiKeyRecord("key_1", "org_1", "usr_1", null, "tgk_aaaaaaaa", default,
            new Dictionary<string, ModelLimits> { [Model] = _limits }.ToFrozenDictionary(),
            DateTimeOffset.UnixEpoch, null, null).Principal;
        _pool = new PoolKey(_principal.OrgId, Model);
        _leases = new InProcessLeaseTable(TimeProvider.System);
        _quota = new AudioQuota(new InProcessQuotaMeter(new LedgerNotUsed()), new LedgerNotUsed(), TimeProvider.System, new QuotaOptions(),
            new TollgateMetrics(new System.Diagnostics.Metrics.Meter("bench")));
        _scope = _quota.Scope(_principal, Model, _limits);
        var options = new ConcurrencyLimiterOptions { PermitLimit = 1_000, QueueLimit = 0 };
        _limiter = new ConcurrencyLimiter(options);
        _partitioned = PartitionedRateLimiter.Create<PoolKey, PoolKey>(pool => RateLimitPartition.GetConcurrencyLimiter(pool, _ => options));
        TollgateDecision();
        TollgateReserveAndRelease();
        PartitionedConcurrencyLimiter();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _limiter.Dispose();
        _partitioned.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool BareConcurrencyLimiter()
    {
        using var lease = _limiter.AttemptAcquire();
        return lease.IsAcquired;
    }

    [Benchmark]
    public bool PartitionedConcurrencyLimiter()
    {
        using var lease = _partitioned.AttemptAcquire(new PoolKey(_principal.OrgId, Model));
        return lease.IsAcquired;
    }

    /// <summary>Lease (with its TTL) + the quota standing of the request's scope + release; every call completes synchronously.</summary>
    [Benchmark]
    public bool TollgateDecision()
    {
        var acquisition = _leases.TryAcquireAsync(new PoolKey(_principal.OrgId, Model), _limits.Concurrency, Ttl).Result;
        if (!acquisition.Acquired)
        {
            return false;
        }
        var admitted = _quota.StandingAsync(_scope).Result.RemainingMs > 0;
        _ = acquisition.Lease.DisposeAsync();
        return admitted;
    }

    /// <summary>A batch file's quota round: reserve exactly, then give it back (the commit path minus the ledger write).</summary>
    [Benchmark]
    public bool TollgateReserveAndRelease()
    {
        var grant = _quota.ReserveAsync(QuotaReservation.Begin(_scope), 3_000, ReserveMode.Exact).Result;
        _ = _quota.ReleaseAsync(grant.Reservation);
        return grant.GrantedMs == 3_000;
    }

    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    /// <summary>The decision reads the ledger once, to seed the organization's month (empty here); nothing is appended.</summary>
    private sealed class LedgerNotUsed : IUsageLedger
    {
        public Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default) => throw new InvalidOperationException();
        public Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default) =>
            Task.FromResult<IReadOnlyList<ModelUsageTotal>>([]);
        public Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId, MonthPeriod period, CancellationToken ct = default) => throw new InvalidOperationException();
        public Task<IReadOnlyList<UsageCharge>> PageAsync(UsageChargeQuery query, CancellationToken ct = default) => throw new InvalidOperationException();
    }
}
