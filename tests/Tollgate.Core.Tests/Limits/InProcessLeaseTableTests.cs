namespace Tollgate.Limits;

public sealed class InProcessLeaseTableTests : LeaseTableContractTests
{
    protected override ILeaseTable CreateTable(TimeProvider time) => new InProcessLeaseTable(time);

    [Fact]
    public async Task AcquireAndRelease_AllocateNothing_OnceAPoolIsKnown()
    {
        var pool = NewPool();
        await (await Table.TryAcquireAsync(pool, 2, Ttl)).Lease.DisposeAsync();
        AllocatedByAcquireAndRelease(Table, pool); // warm: the first pass may JIT and tier up
        // Less than one byte per operation over 1,000 operations: the fast path allocates nothing per call.
        Assert.InRange(AllocatedByAcquireAndRelease(Table, pool), 0, 999);
    }

    /// <summary>The synchronous fast path, driven without awaiting (an await could allocate a state machine of its own).</summary>
    private static long AllocatedByAcquireAndRelease(ILeaseTable table, PoolKey pool)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            var pending = table.TryAcquireAsync(pool, 2, Ttl);
            Assert.True(pending.IsCompletedSuccessfully);
            var release = pending.Result.Lease.DisposeAsync();
            Assert.True(release.IsCompletedSuccessfully);
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
