using Tollgate.Metering;

namespace Tollgate.Limits;

/// <summary>
/// What every <see cref="IQuotaMeter"/> must do (in-process now, Redis next): inherit and implement
/// <see cref="CreateMeter"/>. Organizations are fresh per test; the committed usage a meter starts from is what the
/// given ledger holds.
/// </summary>
public abstract class QuotaMeterContractTests
{
    protected static readonly MonthPeriod May = new(2026, 5);
    protected const string Model = "velma-2-stt-batch";

    private readonly MemoryLedger _ledger = new();
    private IQuotaMeter? _meter;
    private object? _meterLock;

    /// <summary>Made on first use, once even when the first uses are concurrent (several tests start with parallel calls).</summary>
    protected IQuotaMeter Meter => LazyInitializer.EnsureInitialized(ref _meter, ref _meterLock, () => CreateMeter(_ledger));

    /// <summary>A meter whose committed usage starts from <paramref name="ledger"/>.</summary>
    protected abstract IQuotaMeter CreateMeter(IUsageLedger ledger);

    protected static QuotaScope NewScope(long limitMs, long orgCapMs = 0, string model = Model) =>
        new("org_" + Guid.NewGuid().ToString("N")[..12], model, May, limitMs, orgCapMs);

    protected void Charged(string orgId, string model, long ms) =>
        _ledger.Rows.Add(new UsageCharge("req_" + Guid.NewGuid().ToString("N"), orgId, "usr", "key", model, ms, May, May.Start));

    private async Task<QuotaReservation> Reserve(QuotaScope scope, long ms, ReserveMode mode = ReserveMode.Exact, long expectGranted = -1)
    {
        var grant = await Meter.ReserveAsync(QuotaReservation.Begin(scope), ms, mode);
        Assert.Equal(expectGranted < 0 ? ms : expectGranted, grant.GrantedMs);
        return grant.Reservation;
    }

    [Fact]
    public async Task Exact_IsAllOrNothing_AndCommitKeepsOnlyWhatWasCharged()
    {
        var scope = NewScope(10_000);
        var first = await Reserve(scope, 6_000);
        var refused = await Meter.ReserveAsync(QuotaReservation.Begin(scope), 4_001, ReserveMode.Exact);
        Assert.Equal((0L, 4_000L), (refused.GrantedMs, refused.RemainingMs));
        Assert.Equal(0, refused.Reservation.Milliseconds);
        Assert.Equal(4_000, (await Meter.StandingAsync(scope)).RemainingMs);

        await Meter.CommitAsync(first, 5_000);
        Assert.Equal(5_000, (await Meter.StandingAsync(scope)).RemainingMs);
        Assert.Equal(new PoolUsage(5_000, 0), await Meter.UsageAsync(scope.Pool, May));
    }

    [Fact]
    public async Task Release_GivesEverythingBack()
    {
        var scope = NewScope(1_000);
        var reservation = await Reserve(scope, 1_000);
        Assert.Equal(0, (await Meter.StandingAsync(scope)).RemainingMs);
        Assert.Equal(new PoolUsage(0, 1_000), await Meter.UsageAsync(scope.Pool, May));
        await Meter.ReleaseAsync(reservation);
        Assert.Equal(1_000, (await Meter.StandingAsync(scope)).RemainingMs);
        Assert.Equal(new PoolUsage(0, 0), await Meter.UsageAsync(scope.Pool, May));
    }

    [Fact]
    public async Task UpTo_GrantsWhatRemains_ToTheMillisecond_GrowingOneReservation()
    {
        var scope = NewScope(1_234);
        var reservation = QuotaReservation.Begin(scope);
        foreach (var expected in new long[] { 700, 534, 0 })
        {
            var grant = await Meter.ReserveAsync(reservation, 700, ReserveMode.UpTo);
            Assert.Equal(expected, grant.GrantedMs);
            reservation = grant.Reservation;
        }
        Assert.Equal(1_234, reservation.Milliseconds);
        await Meter.CommitAsync(reservation, 1_234);
        Assert.Equal(new PoolUsage(1_234, 0), await Meter.UsageAsync(scope.Pool, May));
    }

    [Fact]
    public async Task StartsFromTheLedger_AndANewMonthStartsFresh()
    {
        var scope = NewScope(10_000);
        Charged(scope.OrgId, Model, 7_000);
        Charged(scope.OrgId, "velma-2-emotion-batch", 500);
        Assert.Equal(3_000, (await Meter.StandingAsync(scope)).RemainingMs);
        Assert.Equal(new PoolUsage(7_500, 0), await Meter.UsageAsync(scope.OrganizationPool, May));
        var june = scope with { Period = new MonthPeriod(2026, 6) };
        Assert.Equal(10_000, (await Meter.StandingAsync(june)).RemainingMs);
    }

    [Fact]
    public async Task ALowerLimitOnAnotherKey_SeesThePooledUsage()
    {
        var generous = NewScope(10_000);
        await Meter.CommitAsync(await Reserve(generous, 3_000), 3_000);
        var strict = generous with { LimitMs = 2_000 };
        Assert.Equal(0, (await Meter.StandingAsync(strict)).RemainingMs);
        await Reserve(strict, 1, expectGranted: 0);
        Assert.Equal(7_000, (await Meter.StandingAsync(generous)).RemainingMs);
    }

    [Fact]
    public async Task OrganizationCap_IsDecidedTogetherWithTheModelPool()
    {
        var stt = NewScope(10_000, orgCapMs: 3_600);
        var emotion = stt with { Model = "velma-2-emotion-batch" };
        await Meter.CommitAsync(await Reserve(stt, 3_000), 3_000);

        var refused = await Meter.ReserveAsync(QuotaReservation.Begin(emotion), 601, ReserveMode.Exact);
        Assert.Equal((0L, 600L, true), (refused.GrantedMs, refused.RemainingMs, refused.LimitedByOrganizationCap));
        // A refusal by the cap holds nothing in the model pool either.
        Assert.Equal(new PoolUsage(0, 0), await Meter.UsageAsync(emotion.Pool, May));

        var partial = await Meter.ReserveAsync(QuotaReservation.Begin(emotion), 5_000, ReserveMode.UpTo);
        Assert.Equal(600, partial.GrantedMs);
        Assert.True(partial.LimitedByOrganizationCap);
        await Meter.CommitAsync(partial.Reservation, 600);
        Assert.Equal(new QuotaStanding(0, true), await Meter.StandingAsync(stt));
        Assert.Equal(new PoolUsage(3_600, 0), await Meter.UsageAsync(stt.OrganizationPool, May));
    }

    [Fact]
    public async Task ParallelReservations_NeverTogetherExceedTheLimit()
    {
        var scope = NewScope(200_003);
        long granted = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                var ms = 1 + (i * 7 + worker) % 97;
                var grant = await Meter.ReserveAsync(QuotaReservation.Begin(scope), ms, ReserveMode.Exact);
                if (grant.GrantedMs == ms)
                {
                    await Meter.CommitAsync(grant.Reservation, ms);
                    Interlocked.Add(ref granted, ms);
                }
            }
        })));
        Assert.True(granted <= scope.LimitMs, $"granted {granted} > {scope.LimitMs}");
        Assert.Equal(new PoolUsage(granted, 0), await Meter.UsageAsync(scope.Pool, May));
        Assert.True(scope.LimitMs - granted < 97, "the meter should fill up to within one request of the limit");
    }

    [Fact]
    public async Task ParallelReservations_AcrossModels_NeverTogetherExceedTheOrganizationCap()
    {
        var first = NewScope(1_000_000, orgCapMs: 50_000);
        var scopes = new[] { first, first with { Model = "velma-2-emotion-batch" }, first with { Model = "velma-2-accent-batch" } };
        long granted = 0;
        await Task.WhenAll(Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                var grant = await Meter.ReserveAsync(QuotaReservation.Begin(scopes[(worker + i) % 3]), 37, ReserveMode.UpTo);
                Interlocked.Add(ref granted, grant.GrantedMs);
                await Meter.CommitAsync(grant.Reservation, grant.GrantedMs);
            }
        })));
        Assert.Equal(50_000, granted);
        Assert.Equal(new PoolUsage(50_000, 0), await Meter.UsageAsync(first.OrganizationPool, May));
    }

    [Fact]
    public async Task AStoreThatFailsOnce_IsAskedAgain_ByTheNextRequest()
    {
        var scope = NewScope(10_000);
        Charged(scope.OrgId, Model, 1_000);
        _ledger.FailNext = true;
        await Assert.ThrowsAnyAsync<Exception>(async () => await Meter.StandingAsync(scope));
        Assert.Equal(9_000, (await Meter.StandingAsync(scope)).RemainingMs);
    }
}
