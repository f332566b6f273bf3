using Tollgate.Metering;

namespace Tollgate.Limits;

public sealed class InProcessQuotaMeterTests : QuotaMeterContractTests
{
    protected override IQuotaMeter CreateMeter(IUsageLedger ledger) => new InProcessQuotaMeter(ledger);

    [Fact]
    public async Task ReserveAndCommit_AllocateNothing_OnceTheMonthIsLoaded()
    {
        var scope = NewScope(long.MaxValue / 2);
        await Meter.StandingAsync(scope);
        AllocatedByReserveAndCommit(Meter, scope); // warm: the first pass may JIT and tier up
        // Less than one byte per operation over 1,000 operations: the fast path allocates nothing per call.
        Assert.InRange(AllocatedByReserveAndCommit(Meter, scope), 0, 999);
    }

    /// <summary>The synchronous fast path, driven without awaiting.</summary>
    private static long AllocatedByReserveAndCommit(IQuotaMeter meter, QuotaScope scope)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            var reserve = meter.ReserveAsync(QuotaReservation.Begin(scope), 10, ReserveMode.Exact);
            Assert.True(reserve.IsCompletedSuccessfully);
            Assert.True(meter.CommitAsync(reserve.Result.Reservation, 10).IsCompletedSuccessfully);
            Assert.True(meter.StandingAsync(scope).IsCompletedSuccessfully);
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
