using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tollgate.RateLimiting;

namespace Tollgate.Benchmarks.RateLimiting;

/// <summary>
/// Step 3 of admission: one request-rate decision for one user under the four default rules (DESIGN 3.4).
/// Baseline: the same rules as System.Threading.RateLimiting offers them — one partitioned
/// <see cref="FixedWindowRateLimiter"/> per rule, keyed by user, chained with
/// <see cref="PartitionedRateLimiter.CreateChained{TResource}"/> (rules that do not apply to the operation class
/// partition to a no-op limiter), <c>AttemptAcquire</c> then dispose. Limits are high enough that both always admit.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class WindowDecisionBenchmarks
{
    private const string User = "user-0001";
    private const long Huge = 1_000_000_000_000;

    private InProcessWindowCounter _counter = null!;
    private RuleSet _safeRules = null!;
    private RuleSet _unsafeRules = null!;
    private PartitionedRateLimiter<Request> _chain = null!;

    private readonly record struct Request(string User, OperationClass Operation);

    [GlobalSetup]
    public void Setup()
    {
        var settings = new RateLimitSettings();
        foreach (var rule in settings.Rules.Values)
        {
            rule!.Limit = Huge.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var policy = new RateLimitPolicy(settings.ToOptions());
        _safeRules = policy.GetRules(RateLimitOptions.Dubbing, OperationClass.Safe);
        _unsafeRules = policy.GetRules(RateLimitOptions.Dubbing, OperationClass.Unsafe);
        _counter = new InProcessWindowCounter(TimeProvider.System);

        _chain = PartitionedRateLimiter.CreateChained(
            PerUser(static _ => true, TimeSpan.FromMinutes(1)),                                   // global
            PerUser(static op => op == OperationClass.Safe, TimeSpan.FromMinutes(1)),             // safe
            PerUser(static op => op == OperationClass.Unsafe, TimeSpan.FromMinutes(1)),           // unsafe-minute
            PerUser(static op => op == OperationClass.Unsafe, TimeSpan.FromHours(1)));            // unsafe-hour

        // Warm: partitions exist, as they do for an active user.
        _counter.TryAcquire(User, _safeRules);
        _counter.TryAcquire(User, _unsafeRules);
        _chain.AttemptAcquire(new Request(User, OperationClass.Safe)).Dispose();
        _chain.AttemptAcquire(new Request(User, OperationClass.Unsafe)).Dispose();
    }

    [GlobalCleanup]
    public void Cleanup() => _chain.Dispose();

    [Benchmark(Baseline = true), BenchmarkCategory("Unsafe (POST)")]
    public bool ChainedFixedWindowLimiters_Post() => Chain(OperationClass.Unsafe);

    [Benchmark, BenchmarkCategory("Unsafe (POST)")]
    public bool WindowCounter_Post() => Decide(_unsafeRules);

    [Benchmark(Baseline = true), BenchmarkCategory("Safe (GET)")]
    public bool ChainedFixedWindowLimiters_Get() => Chain(OperationClass.Safe);

    [Benchmark, BenchmarkCategory("Safe (GET)")]
    public bool WindowCounter_Get() => Decide(_safeRules);

    private bool Decide(RuleSet rules)
    {
        var pending = _counter.TryAcquireAsync(User, rules);
        return pending.IsCompletedSuccessfully ? pending.Result.Admitted : pending.AsTask().GetAwaiter().GetResult().Admitted;
    }

    private bool Chain(OperationClass operation)
    {
        using var lease = _chain.AttemptAcquire(new Request(User, operation));
        return lease.IsAcquired;
    }

    private static PartitionedRateLimiter<Request> PerUser(Func<OperationClass, bool> applies, TimeSpan window)
    {
        var options = new FixedWindowRateLimiterOptions
        {
            PermitLimit = int.MaxValue,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        return PartitionedRateLimiter.Create<Request, string>(request => applies(request.Operation)
            ? RateLimitPartition.GetFixedWindowLimiter(request.User, _ => options)
            : RateLimitPartition.GetNoLimiter(request.User));
    }
}
