using Tollgate.Limits;

namespace Tollgate.Limits;

public sealed class LeaseTableTests
{
    private static readonly PoolKey Pool = new("org_a", "velma-2-stt-batch");

    [Fact]
    public void TakesUpToTheLimit_ThenRefuses_AndAReleaseFreesOneSlot()
    {
        var table = new InProcessLeaseTable();
        var leases = new List<Lease>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(table.TryAcquire(Pool, 3, out var lease));
            leases.Add(lease);
        }
        Assert.False(table.TryAcquire(Pool, 3, out var refused));
        Assert.False(refused.IsHeld);
        Assert.Equal(3, table.InFlight(Pool));

        leases[0].Release();
        Assert.Equal(2, table.InFlight(Pool));
        Assert.True(table.TryAcquire(Pool, 3, out _));
    }

    [Fact]
    public void PoolsAreIndependent_AndEachRequestIsJudgedByItsOwnLimit()
    {
        var table = new InProcessLeaseTable();
        Assert.True(table.TryAcquire(Pool, 1, out _));
        Assert.True(table.TryAcquire(Pool with { Model = "velma-2-emotion-batch" }, 1, out _));
        Assert.True(table.TryAcquire(Pool with { OrgId = "org_b" }, 1, out _));
        // A key with a higher limit may still enter the same pool; one with limit 1 may not.
        Assert.False(table.TryAcquire(Pool, 1, out _));
        Assert.True(table.TryAcquire(Pool, 2, out _));
    }

    [Fact]
    public async Task UnderContention_NeverMoreThanTheLimit_AndEveryoneFinishesAtZero()
    {
        var table = new InProcessLeaseTable();
        const int limit = 5;
        var maxSeen = 0;
        var admitted = 0;
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                if (table.TryAcquire(Pool, limit, out var lease))
                {
                    Interlocked.Increment(ref admitted);
                    var now = table.InFlight(Pool);
                    int seen;
                    while (now > (seen = Volatile.Read(ref maxSeen)) && Interlocked.CompareExchange(ref maxSeen, now, seen) != seen)
                    {
                    }
                    lease.Release();
                }
            }
        }));
        await Task.WhenAll(workers);
        Assert.InRange(maxSeen, 1, limit);
        Assert.True(admitted > 0);
        Assert.Equal(0, table.InFlight(Pool));
    }
}
