using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Tollgate.Caching;
using Tollgate.Distributed.Redis.FailOpen;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Observability;
using Tollgate.RateLimiting;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// What distribution adds to the contracts: several "nodes" (each its own store instance and connection) on one Redis
/// decide as one; state Redis loses is neither double counted nor leaked; what a dead node held expires.
/// </summary>
public sealed class RedisDistributionTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 20, TimeSpan.Zero));
    private readonly RedisKeys _keys = TestRedis.NewKeys();

    private static QuotaScope NewScope(long limitMs) =>
        new("org_" + Guid.NewGuid().ToString("N")[..12], "velma-2-stt-batch", new MonthPeriod(2026, 11), limitMs, 0);

    private RedisQuotaMeter Meter(IUsageLedger ledger, IConnectionMultiplexer? redis = null) =>
        new(redis ?? TestRedis.Connection, _keys, ledger, _time, Ttl, NullLogger<RedisQuotaMeter>.Instance);

    private RedisLeaseTable Leases(IConnectionMultiplexer? redis = null) =>
        new(redis ?? TestRedis.Connection, _keys, _time, NullLogger<RedisLeaseTable>.Instance);

    private static UsageCharge Charge(QuotaScope scope, long ms) =>
        new("req_" + Guid.NewGuid().ToString("N"), scope.OrgId, "usr", "key", scope.Model, ms, scope.Period, scope.Period.Start);

    private static async Task ForgetAsync(RedisKeys keys, QuotaScope scope)
    {
        var db = TestRedis.Connection.GetDatabase();
        await db.KeyDeleteAsync([keys.Quota(scope.OrgId, scope.Period), keys.QuotaExpiries(scope.OrgId, scope.Period)]);
    }

    [Fact]
    public async Task ThreeNodes_64ParallelClientsEach_AdmitExactlyTheLimit_WithOneNodesHeaders()
    {
        using var second = TestRedis.Connect(TestRedis.Address);
        using var third = TestRedis.Connect(TestRedis.Address);
        IWindowCounter[] nodes =
        [
            new RedisWindowCounter(TestRedis.Connection, _keys, _time),
            new RedisWindowCounter(second, _keys, _time),
            new RedisWindowCounter(third, _keys, _time),
        ];
        var rules = RateLimitPolicy.Default.GetRules("Dubbing", OperationClass.Unsafe); // unsafe-minute: 500
        var user = "usr_" + Guid.NewGuid().ToString("N");
        var admitted = 0;
        await Task.WhenAll(Enumerable.Range(0, 3 * 64).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                if ((await nodes[client % 3].TryAcquireAsync(user, rules)).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        })));

        Assert.Equal(500, admitted);
        // The next decision, on any node, is the one a single node would give after 500 POSTs.
        var local = new InProcessWindowCounter(_time);
        for (var i = 0; i < 500; i++)
        {
            local.TryAcquire(user, rules);
        }
        Assert.Equal(local.TryAcquire(user, rules), await nodes[1].TryAcquireAsync(user, rules));
    }

    [Fact]
    public async Task Windows_NodeWithALaggingClock_CountsInTheLaterWindow_NeverASecondBudget()
    {
        var behind = new FakeTimeProvider(_time.GetUtcNow() + TimeSpan.FromSeconds(40)); // 12:01:00
        var ahead = new RedisWindowCounter(TestRedis.Connection, _keys, behind);
        var lagging = new RedisWindowCounter(TestRedis.Connection, _keys, _time); // still 12:00:20
        var rules = RuleSet.Create(new RateRule("per-minute", 2, TimeSpan.FromMinutes(1), RuleScope.All));
        var user = "usr_" + Guid.NewGuid().ToString("N");
        Assert.True((await ahead.TryAcquireAsync(user, rules)).Admitted);
        Assert.True((await lagging.TryAcquireAsync(user, rules)).Admitted);
        var refused = await lagging.TryAcquireAsync(user, rules);
        Assert.False(refused.Admitted);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 12, 2, 0, TimeSpan.Zero).ToUnixTimeSeconds(), refused.ResetUnixSeconds);
    }

    [Fact]
    public async Task Windows_RedisForgotTheScript_TheNextDecisionLoadsItAgain_AndCountsOnce()
    {
        // A restarted or failed-over Redis has no scripts: the counter is sent by its hash first, and Redis answers NOSCRIPT.
        var counter = new RedisWindowCounter(TestRedis.Connection, _keys, _time);
        var rules = RuleSet.Create(new RateRule("per-minute", 3, TimeSpan.FromMinutes(1), RuleScope.All),
            new RateRule("per-hour", 10, TimeSpan.FromHours(1), RuleScope.All));
        var user = "usr_" + Guid.NewGuid().ToString("N");
        Assert.Equal(2, (await counter.TryAcquireAsync(user, rules)).Remaining);

        await TestRedis.Connection.GetDatabase().ExecuteAsync("SCRIPT", "FLUSH");
        var afterFlush = await counter.TryAcquireAsync(user, rules);

        Assert.True(afterFlush.Admitted);
        Assert.Equal(1, afterFlush.Remaining);
        Assert.Equal(0, (await counter.TryAcquireAsync(user, rules)).Remaining);
        Assert.False((await counter.TryAcquireAsync(user, rules)).Admitted);
        var usage = await counter.PeekAsync(user, rules);
        Assert.Equal([3L, 3L], usage.Select(u => u.Used));
    }

    [Fact]
    public async Task Leases_AreExactAcrossNodes_AndADeadNodesLeasesExpireWithinTheTtl()
    {
        using var other = TestRedis.Connect(TestRedis.Address);
        var living = Leases();
        var dying = Leases(other);
        var pool = new PoolKey("org_" + Guid.NewGuid().ToString("N")[..12], "velma-2-stt-batch");
        Assert.True((await dying.TryAcquireAsync(pool, 3, Ttl)).Acquired);
        Assert.True((await dying.TryAcquireAsync(pool, 3, Ttl)).Acquired);
        var mine = await living.TryAcquireAsync(pool, 3, Ttl);
        Assert.True(mine.Acquired);
        Assert.Equal(3, mine.Held);
        Assert.False((await living.TryAcquireAsync(pool, 3, Ttl)).Acquired);

        // The dying node stops renewing; the living one renews what it holds.
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(Ttl / 3);
            await living.RenewHeldAsync();
        }
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await living.CountAsync(pool));
        Assert.True((await living.TryAcquireAsync(pool, 3, Ttl)).Acquired);
        await mine.Lease.DisposeAsync();
        Assert.Equal(1, await living.CountAsync(pool));
    }

    [Fact]
    public async Task Leases_TheKeyItselfExpires_SoNothingIsHeldForGood()
    {
        var pool = new PoolKey("org_" + Guid.NewGuid().ToString("N")[..12], "velma-2-stt-batch");
        Assert.True((await Leases().TryAcquireAsync(pool, 1, TimeSpan.FromSeconds(3))).Acquired);
        var ttl = await TestRedis.Connection.GetDatabase().KeyTimeToLiveAsync(_keys.Leases(pool));
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Leases_LostByRedis_AreCountedAgainAtTheNextRenewal()
    {
        var table = Leases();
        var pool = new PoolKey("org_" + Guid.NewGuid().ToString("N")[..12], "velma-2-stt-batch");
        var held = await table.TryAcquireAsync(pool, 2, Ttl);
        await TestRedis.Connection.GetDatabase().KeyDeleteAsync(_keys.Leases(pool)); // a restart without persistence
        Assert.Equal(0, await table.CountAsync(pool));
        await table.RenewHeldAsync();
        Assert.Equal(1, await table.CountAsync(pool));
        await held.Lease.DisposeAsync();
        Assert.Equal(0, await table.CountAsync(pool));
    }

    [Fact]
    public async Task Quota_ParallelReservationsThroughThreeNodes_NeverTogetherExceedTheLimit()
    {
        var ledger = new MemoryLedger();
        using var second = TestRedis.Connect(TestRedis.Address);
        using var third = TestRedis.Connect(TestRedis.Address);
        RedisQuotaMeter[] nodes = [Meter(ledger), Meter(ledger, second), Meter(ledger, third)];
        var scope = NewScope(60_000);
        long granted = 0;
        await Task.WhenAll(Enumerable.Range(0, 96).Select(client => Task.Run(async () =>
        {
            var node = nodes[client % 3];
            for (var i = 0; i < 10; i++)
            {
                var grant = await node.ReserveAsync(QuotaReservation.Begin(scope), 1_000, ReserveMode.Exact);
                if (grant.GrantedMs > 0)
                {
                    Interlocked.Add(ref granted, grant.GrantedMs);
                    await node.CommitAsync(grant.Reservation, grant.GrantedMs);
                }
            }
        })));
        Assert.Equal(60_000, granted);
        Assert.Equal(new PoolUsage(60_000, 0), await nodes[2].UsageAsync(scope.Pool, scope.Period));
    }

    [Fact]
    public async Task Quota_ADeadNodesReservation_ExpiresAfterTheTtl_ButALiveOneIsRenewed()
    {
        var ledger = new MemoryLedger();
        var dead = Meter(ledger);
        var live = Meter(ledger);
        var scope = NewScope(10_000);
        await dead.ReserveAsync(QuotaReservation.Begin(scope), 4_000, ReserveMode.Exact);
        await live.ReserveAsync(QuotaReservation.Begin(scope), 3_000, ReserveMode.Exact);
        Assert.Equal(3_000, (await live.StandingAsync(scope)).RemainingMs);
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(Ttl / 3);
            await live.RenewHeldAsync();
        }
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new PoolUsage(0, 3_000), await live.UsageAsync(scope.Pool, scope.Period));
        Assert.Equal(7_000, (await live.StandingAsync(scope)).RemainingMs);
    }

    [Fact]
    public async Task Quota_StateLostBeforeTheLedgerRead_IsReseeded_AndTheCommitNotCountedTwice()
    {
        var ledger = new MemoryLedger();
        var meter = Meter(ledger);
        var scope = NewScope(10_000);
        var grant = await meter.ReserveAsync(QuotaReservation.Begin(scope), 2_000, ReserveMode.Exact);
        await ForgetAsync(_keys, scope); // Redis restarted without persistence
        ledger.Rows.Add(Charge(scope, 2_000)); // the request's charge is durable (the ledger first, then the meter)
        Assert.Equal(8_000, (await meter.StandingAsync(scope)).RemainingMs); // re-seeded: the ledger has it

        await meter.CommitAsync(grant.Reservation, 2_000);

        Assert.Equal(8_000, (await meter.StandingAsync(scope)).RemainingMs);
        Assert.Equal(new PoolUsage(2_000, 0), await meter.UsageAsync(scope.Pool, scope.Period));
    }

    [Fact]
    public async Task Quota_StateReseededBeforeTheChargeWasWritten_DoesNotLoseIt()
    {
        var ledger = new MemoryLedger();
        var meter = Meter(ledger);
        var scope = NewScope(10_000);
        var grant = await meter.ReserveAsync(QuotaReservation.Begin(scope), 2_000, ReserveMode.Exact);
        await ForgetAsync(_keys, scope);
        Assert.Equal(10_000, (await meter.StandingAsync(scope)).RemainingMs); // re-seeded before the charge was written
        ledger.Rows.Add(Charge(scope, 2_000));

        await meter.CommitAsync(grant.Reservation, 2_000);

        Assert.Equal(8_000, (await meter.StandingAsync(scope)).RemainingMs);
    }

    [Fact]
    public async Task Quota_ACommitDuringASeed_MakesTheSeedReadTheLedgerAgain()
    {
        var ledger = new GatedLedger();
        var seeding = Meter(ledger);
        var committing = Meter(ledger);
        var scope = NewScope(10_000);
        var grant = await committing.ReserveAsync(QuotaReservation.Begin(scope), 2_000, ReserveMode.Exact);
        await ForgetAsync(_keys, scope);

        ledger.Hold();
        var standing = seeding.StandingAsync(scope).AsTask(); // reads the ledger before the charge is written...
        await ledger.Reading;
        ledger.Rows.Add(Charge(scope, 2_000));
        await committing.CommitAsync(grant.Reservation, 2_000); // ...and this commit lands while that seed is in flight
        ledger.Release();

        Assert.Equal(8_000, (await standing).RemainingMs);
        Assert.Equal(8_000, (await committing.StandingAsync(scope)).RemainingMs);
    }

    [Fact]
    public async Task Invalidation_PublishedOnOneNode_ReachesAnotherWithinASecond()
    {
        using var other = TestRedis.Connect(TestRedis.Address);
        var sender = new RedisCacheInvalidation(TestRedis.Connection, _keys, NullLogger<RedisCacheInvalidation>.Instance);
        var receiver = new RedisCacheInvalidation(other, _keys, NullLogger<RedisCacheInvalidation>.Instance);
        var heard = new TaskCompletionSource<CacheInvalidation>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Subscribe(message => heard.TrySetResult(message));
        var deadline = Stopwatch.StartNew();
        while (!(sender.IsDelivering && receiver.IsDelivering))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(5), "the subscriptions were not established");
            await Task.Delay(10);
        }

        var sent = Stopwatch.StartNew();
        await sender.PublishAsync(new CacheInvalidation(CacheInvalidation.KeyRevoked, new string('a', 64)));
        var message = await heard.Task.WaitAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(new CacheInvalidation(CacheInvalidation.KeyRevoked, new string('a', 64)), message);
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Unreachable_FailsAtOnce_Closed_AndFallsBackToTheNodesOwnLimiter_Open()
    {
        using var dead = TestRedis.Connect("127.0.0.1:1");
        var rules = RuleSet.Create(new RateRule("per-minute", 2, TimeSpan.FromMinutes(1), RuleScope.All));
        var closed = new RedisWindowCounter(dead, _keys, _time);
        var started = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await closed.TryAcquireAsync("usr_x", rules));
        Assert.True(RedisFailures.IsUnavailable(failure), failure.ToString());
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"took {started.Elapsed}");

        using var meterFactory = new TestMeterFactory();
        var guard = new FailOpenGuard(new TollgateMetrics(meterFactory.Create(TollgateMetrics.MeterName)), _time, NullLogger<FailOpenGuard>.Instance);
        var open = new FailOpenWindowCounter(closed, new InProcessWindowCounter(_time), guard);
        Assert.True((await open.TryAcquireAsync("usr_x", rules)).Admitted);
        Assert.True((await open.TryAcquireAsync("usr_x", rules)).Admitted);
        Assert.False((await open.TryAcquireAsync("usr_x", rules)).Admitted); // still limited, by this node alone

        var leases = new FailOpenLeaseTable(Leases(dead), new InProcessLeaseTable(_time), guard);
        var pool = new PoolKey("org_x", "velma-2-stt-batch");
        var lease = await leases.TryAcquireAsync(pool, 1, Ttl);
        Assert.True(lease.Acquired);
        Assert.False((await leases.TryAcquireAsync(pool, 1, Ttl)).Acquired);
        await lease.Lease.DisposeAsync();
        Assert.Equal(0, await leases.CountAsync(pool));

        var ledger = new MemoryLedger();
        var quota = new FailOpenQuotaMeter(Meter(ledger, dead), new InProcessQuotaMeter(ledger), guard);
        var scope = NewScope(1_000);
        var grant = await quota.ReserveAsync(QuotaReservation.Begin(scope), 800, ReserveMode.Exact);
        Assert.Equal(800, grant.GrantedMs);
        Assert.Equal(0, (await quota.ReserveAsync(QuotaReservation.Begin(scope), 800, ReserveMode.Exact)).GrantedMs);
        await quota.CommitAsync(grant.Reservation, 800);
        Assert.Equal(200, (await quota.StandingAsync(scope)).RemainingMs);
    }

    [Fact]
    public async Task Closed_CommitAndRelease_NeverFailTheRequest_WhenRedisIsGone()
    {
        using var dead = TestRedis.Connect("127.0.0.1:1");
        var meter = Meter(new MemoryLedger(), dead);
        var scope = NewScope(1_000);
        var reservation = new QuotaReservation(scope, RedisQuotaMeter.FirstId + 1, 500);
        await meter.CommitAsync(reservation, 500);
        await meter.ReleaseAsync(reservation);
        var lease = await new FailOpenLeaseTable(Leases(dead), new InProcessLeaseTable(_time),
            new FailOpenGuard(new TollgateMetrics(new Meter("t")), _time, NullLogger<FailOpenGuard>.Instance)).TryAcquireAsync(new PoolKey("o", "m"), 1, Ttl);
        await lease.Lease.DisposeAsync();
    }

    /// <summary>A ledger whose next read can be held open, to land a commit in the middle of a seed.</summary>
    private sealed class GatedLedger : IUsageLedger
    {
        private readonly MemoryLedger _inner = new();
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _hold;
        private readonly TaskCompletionSource _reading = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<UsageCharge> Rows => _inner.Rows;

        public Task Reading => _reading.Task;

        public void Hold() => Volatile.Write(ref _hold, 1);

        public void Release() => _released.TrySetResult();

        public Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default) => _inner.AppendAsync(charge, ct);

        public async Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
        {
            var totals = await _inner.MonthTotalsAsync(orgId, period, ct);
            if (Interlocked.Exchange(ref _hold, 0) == 1)
            {
                _reading.TrySetResult();
                await _released.Task;
            }
            return totals;
        }

        public Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId, MonthPeriod period, CancellationToken ct = default) =>
            _inner.ChargesAsync(orgId, period, ct);

        public Task<IReadOnlyList<UsageCharge>> PageAsync(UsageChargeQuery query, CancellationToken ct = default) => _inner.PageAsync(query, ct);
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
