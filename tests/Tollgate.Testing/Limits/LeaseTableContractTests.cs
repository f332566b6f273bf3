using Microsoft.Extensions.Time.Testing;

namespace Tollgate.Limits;

/// <summary>
/// What every <see cref="ILeaseTable"/> must do (in-process now, Redis next): inherit and implement <see cref="CreateTable"/>.
/// Time comes from a <see cref="FakeTimeProvider"/>; nothing sleeps. Pools are fresh per test.
/// </summary>
public abstract class LeaseTableContractTests
{
    protected static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    private ILeaseTable? _table;
    private object? _tableLock;

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    /// <summary>Made on first use, once even when the first uses are concurrent (several tests start with parallel calls).</summary>
    protected ILeaseTable Table => LazyInitializer.EnsureInitialized(ref _table, ref _tableLock, () => CreateTable(Time));

    /// <summary>A table reading time from <paramref name="time"/>.</summary>
    protected abstract ILeaseTable CreateTable(TimeProvider time);

    protected static PoolKey NewPool() => new("org_" + Guid.NewGuid().ToString("N")[..12], "velma-2-stt-batch");

    private async Task<Lease> MustAcquire(PoolKey pool, int limit, TimeSpan? ttl = null)
    {
        var acquisition = await Table.TryAcquireAsync(pool, limit, ttl ?? Ttl);
        Assert.True(acquisition.Acquired, $"a slot of {pool} below {limit} should be granted");
        return acquisition.Lease;
    }

    [Fact]
    public async Task Acquire_UpToTheLimit_ThenRefuses_AndADisposeFreesOneSlot()
    {
        var pool = NewPool();
        var leases = new List<Lease>();
        for (var i = 0; i < 3; i++)
        {
            leases.Add(await MustAcquire(pool, 3));
        }
        var refused = await Table.TryAcquireAsync(pool, 3, Ttl);
        Assert.False(refused.Acquired);
        Assert.False(refused.Lease.IsHeld);
        Assert.Equal(3, refused.Held);
        Assert.Equal(3, await Table.CountAsync(pool));

        await leases[0].DisposeAsync();
        Assert.Equal(2, await Table.CountAsync(pool));
        Assert.True((await Table.TryAcquireAsync(pool, 3, Ttl)).Acquired);
    }

    [Fact]
    public async Task Dispose_IsIdempotent_AndACopyCannotFreeASlotGivenToSomeoneElse()
    {
        var pool = NewPool();
        var first = await MustAcquire(pool, 1);
        var copy = first;
        await first.DisposeAsync();
        var second = await MustAcquire(pool, 1);
        await copy.DisposeAsync();
        await first.DisposeAsync();
        Assert.Equal(1, await Table.CountAsync(pool));
        Assert.False((await Table.TryAcquireAsync(pool, 1, Ttl)).Acquired);
        await second.DisposeAsync();
        Assert.Equal(0, await Table.CountAsync(pool));
    }

    [Fact]
    public async Task PoolsAreIndependent_AndEachRequestIsJudgedByItsOwnLimit()
    {
        var pool = NewPool();
        await MustAcquire(pool, 1);
        await MustAcquire(pool with { Model = "velma-2-emotion-batch" }, 1);
        await MustAcquire(pool with { OrgId = pool.OrgId + "-b" }, 1);
        // A key with a higher limit may still enter the same pool; one with limit 1 may not.
        Assert.False((await Table.TryAcquireAsync(pool, 1, Ttl)).Acquired);
        Assert.True((await Table.TryAcquireAsync(pool, 2, Ttl)).Acquired);
    }

    [Fact]
    public async Task ALeaseNotRenewed_ExpiresAfterItsTtl_AndItsSlotIsTakenAgain()
    {
        var pool = NewPool();
        var abandoned = await MustAcquire(pool, 1);
        Time.Advance(Ttl - TimeSpan.FromSeconds(1));
        Assert.False((await Table.TryAcquireAsync(pool, 1, Ttl)).Acquired);
        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, await Table.CountAsync(pool));
        var next = await MustAcquire(pool, 1);
        // The holder that stopped renewing has lost its slot: renewing or disposing it changes nothing.
        Assert.False(await abandoned.RenewAsync(Ttl));
        await abandoned.DisposeAsync();
        Assert.Equal(1, await Table.CountAsync(pool));
        Assert.True(await next.RenewAsync(Ttl));
    }

    [Fact]
    public async Task Renewal_KeepsALeaseAlive_PastManyTtls()
    {
        var pool = NewPool();
        var lease = await MustAcquire(pool, 1);
        for (var i = 0; i < 5; i++)
        {
            Time.Advance(Ttl / 2);
            Assert.True(await lease.RenewAsync(Ttl));
        }
        Assert.False((await Table.TryAcquireAsync(pool, 1, Ttl)).Acquired);
        await lease.DisposeAsync();
        Assert.True((await Table.TryAcquireAsync(pool, 1, Ttl)).Acquired);
    }

    [Fact]
    public async Task RenewHeld_RenewsEveryLeaseStillHeld_ByItsOwnTtl()
    {
        var pool = NewPool();
        var shortLived = await MustAcquire(pool, 3, TimeSpan.FromSeconds(10));
        var longLived = await MustAcquire(pool, 3, TimeSpan.FromSeconds(60));
        var released = await MustAcquire(pool, 3, TimeSpan.FromSeconds(10));
        await released.DisposeAsync();
        for (var i = 0; i < 6; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(5));
            await Table.RenewHeldAsync();
        }
        Assert.Equal(2, await Table.CountAsync(pool));
        Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(1, await Table.CountAsync(pool));
        Assert.False(await shortLived.RenewAsync(Ttl));
        Assert.True(await longLived.RenewAsync(Ttl));
    }

    [Fact]
    public async Task UnderContention_NeverMoreThanTheLimit_AndEveryoneFinishesAtZero()
    {
        var pool = NewPool();
        const int limit = 5;
        var held = 0;
        var maxSeen = 0;
        var admitted = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                var acquisition = await Table.TryAcquireAsync(pool, limit, Ttl);
                if (!acquisition.Acquired)
                {
                    continue;
                }
                Interlocked.Increment(ref admitted);
                var now = Interlocked.Increment(ref held);
                int seen;
                while (now > (seen = Volatile.Read(ref maxSeen)) && Interlocked.CompareExchange(ref maxSeen, now, seen) != seen)
                {
                }
                Interlocked.Decrement(ref held);
                await acquisition.Lease.DisposeAsync();
            }
        })));
        Assert.InRange(maxSeen, 1, limit);
        Assert.True(admitted > 0);
        Assert.Equal(0, await Table.CountAsync(pool));
    }
}
