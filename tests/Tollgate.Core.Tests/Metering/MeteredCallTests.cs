using Microsoft.Extensions.Time.Testing;
using Tollgate.Identity;
using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>The one metered call: reserve → charge or release → free the lease, exactly once, whoever asks first.</summary>
public sealed class MeteredCallTests
{
    private const string Model = "velma-2-stt-streaming";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 10, 12, 0, 0, TimeSpan.Zero));
    private readonly MemoryLedger _ledger = new();
    private readonly InProcessLeaseTable _leases;
    private readonly AudioQuota _quota;
    private readonly Principal _alice = AudioQuotaTests.PrincipalOf("org_a", "usr_alice", "key_1", Model, hours: 0.001); // 3.6 s

    public MeteredCallTests()
    {
        _leases = new InProcessLeaseTable(_time);
        _quota = new AudioQuota(new InProcessQuotaMeter(_ledger), _ledger, _time, new QuotaOptions(), AudioQuotaTests.Metrics());
    }

    private static readonly PoolKey Pool = new("org_a", Model);

    private async Task<MeteredCall> Begin(ChargePolicy policy, string requestId = "req_1")
    {
        var acquisition = await _leases.TryAcquireAsync(Pool, 1, Ttl);
        Assert.True(acquisition.Acquired);
        return new MeteredCall(_quota, AudioQuotaTests.Metrics(), _alice, _quota.Scope(_alice, Model, _alice.Key.Models[Model]), requestId, acquisition.Lease, policy);
    }

    [Fact]
    public async Task AStream_IsChargedWhatItAccepted_AndItsLeaseIsFree_WhenSettleCompletes()
    {
        var call = await Begin(ChargePolicy.Accepted);
        Assert.True(await call.AdvanceToAsync(2_000, default));
        Assert.False(await call.AdvanceToAsync(5_000, default));
        Assert.Equal(3_600, call.AcceptedMs);
        Assert.Equal(0, call.Refusal().RemainingMs);

        Assert.True(await call.SettleAsync());
        Assert.Equal(3_600, Assert.Single(_ledger.Rows).Milliseconds);
        Assert.Equal(0, await _leases.CountAsync(Pool));
    }

    [Fact]
    public async Task ABatchFile_IsChargedOnlyWhenTheBackendSucceeded()
    {
        var failed = await Begin(ChargePolicy.OnSuccess, "req_failed");
        Assert.True(await failed.ReserveAsync(3_000, default));
        Assert.True(await failed.SettleAsync());
        Assert.Empty(_ledger.Rows);

        var succeeded = await Begin(ChargePolicy.OnSuccess, "req_ok");
        Assert.True(await succeeded.ReserveAsync(3_000, default));
        succeeded.Succeeded(3_000);
        Assert.True(await succeeded.SettleAsync());
        Assert.Equal(("req_ok", 3_000L), (Assert.Single(_ledger.Rows).RequestId, _ledger.Rows[0].Milliseconds));
        Assert.Equal(0, await _leases.CountAsync(Pool));
    }

    [Fact]
    public async Task Settle_RunsOnce_WhoeverCallsIt_AndNothingIsReservedAfterwards()
    {
        var call = await Begin(ChargePolicy.Accepted);
        Assert.True(await call.AdvanceToAsync(1_000, default));
        var settles = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => call.SettleAsync())));
        Assert.All(settles, Assert.True);
        Assert.Single(_ledger.Rows);
        Assert.False(await call.AdvanceToAsync(2_000, default));
        Assert.Equal(1_000, call.AcceptedMs);
        Assert.Equal(new PoolUsage(1_000, 0), await new InProcessQuotaMeter(_ledger).UsageAsync(Pool, new MonthPeriod(2026, 5)));
    }

    [Fact]
    public async Task ALedgerThatRefusesTheWrite_ReleasesEverything_AndSaysSo()
    {
        var failing = new FailingLedger();
        var quota = new AudioQuota(new InProcessQuotaMeter(failing), failing, _time, new QuotaOptions(), AudioQuotaTests.Metrics());
        var acquisition = await _leases.TryAcquireAsync(Pool, 1, Ttl);
        var call = new MeteredCall(quota, AudioQuotaTests.Metrics(), _alice, quota.Scope(_alice, Model, _alice.Key.Models[Model]), "req_1",
            acquisition.Lease, ChargePolicy.Accepted);
        Assert.True(await call.AdvanceToAsync(1_000, default));

        Assert.False(await call.SettleAsync());
        Assert.IsType<IOException>(call.SettleError);
        Assert.Equal(0, await _leases.CountAsync(Pool));
        Assert.Equal(3_600, (await quota.StandingAsync(call.Scope)).RemainingMs);
    }

    private sealed class FailingLedger : IUsageLedger
    {
        public Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default) => throw new IOException("disk full");

        public Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default) =>
            Task.FromResult<IReadOnlyList<ModelUsageTotal>>([]);

        public Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId, MonthPeriod period, CancellationToken ct = default) =>
            Task.FromResult<IReadOnlyList<UsageCharge>>([]);

        public Task<IReadOnlyList<UsageCharge>> PageAsync(UsageChargeQuery query, CancellationToken ct = default) =>
            Task.FromResult<IReadOnlyList<UsageCharge>>([]);
    }
}
