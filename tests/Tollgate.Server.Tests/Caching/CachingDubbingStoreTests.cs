using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Caching;
using Tollgate.Dubbing;
using Tollgate.Limits;
using Tollgate.Server.Caching;

namespace Tollgate.Caching;

/// <summary>The credits cache: exact for this node's own writes, told of other nodes' writes, never keeping a read that raced a write.</summary>
public sealed class CachingDubbingStoreTests
{
    private static readonly MonthPeriod Month = new(2026, 12);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
    private readonly CountingStore _inner = new();
    private readonly Bus _bus = new();

    private CachingDubbingStore Cache() => new(_inner, _time, _bus, NullLogger<CachingDubbingStore>.Instance);

    private static Dub NewDub(string orgId) => new() { Id = "dub_1", OrgId = orgId, UserId = "usr_1", Name = "talk", TargetLanguage = "es" };

    [Fact]
    public async Task ARepeatedRead_IsServedFromTheCache_UntilItsTrustRunsOut()
    {
        var cache = Cache();
        _inner.Used = 5;
        Assert.Equal(5, await cache.CreditsUsedAsync("org_a", Month));
        _inner.Used = 9; // written by another node that cannot tell us (nothing delivers invalidations here)
        Assert.Equal(5, await cache.CreditsUsedAsync("org_a", Month));
        Assert.Equal(1, _inner.Reads);
        _time.Advance(CachingDubbingStore.TrustAlone);
        Assert.Equal(9, await cache.CreditsUsedAsync("org_a", Month));
    }

    [Fact]
    public async Task AChargeThroughThisNode_IsSeenByTheNextRead_AndToldToTheOthers()
    {
        var cache = Cache();
        await cache.CreditsUsedAsync("org_a", Month);
        _inner.Used = 7;
        await cache.ChargeAsync(NewDub("org_a"), DubStatus.Preprocessed, new CreditEntry("dub_1:charge", "org_a", "dub_1", 7, Month, _time.GetUtcNow()), 100);
        Assert.Equal(7, await cache.CreditsUsedAsync("org_a", Month));
        Assert.Contains(new CacheInvalidation(CachingDubbingStore.Topic, "org_a"), _bus.Published);
    }

    [Fact]
    public async Task AnotherNodesWrite_HeardOverTheBus_IsSeenByTheNextRead()
    {
        _bus.Delivering = true;
        var cache = Cache();
        await cache.CreditsUsedAsync("org_a", Month);
        _inner.Used = 3;
        _time.Advance(TimeSpan.FromSeconds(5)); // trusted for longer while invalidations are delivered...
        Assert.Equal(0, await cache.CreditsUsedAsync("org_a", Month));
        _bus.Deliver(new CacheInvalidation(CachingDubbingStore.Topic, "org_a")); // ...until one arrives
        Assert.Equal(3, await cache.CreditsUsedAsync("org_a", Month));
    }

    [Fact]
    public async Task AReadThatRacedAWrite_IsNotKept()
    {
        var cache = Cache();
        _inner.Used = 1;
        var hold = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Hold = hold;
        var racing = cache.CreditsUsedAsync("org_a", Month);
        await cache.UpdateDubWithRefundAsync(NewDub("org_a"), DubStatus.Processing, "dub_1:refund", _time.GetUtcNow());
        hold.SetResult(1); // the stale figure, read before the write
        Assert.Equal(1, await racing);
        _inner.Used = 0;
        Assert.Equal(0, await cache.CreditsUsedAsync("org_a", Month));
    }

    private sealed class Bus : ICacheInvalidation
    {
        private Action<CacheInvalidation>? _handlers;

        public bool Delivering { get; set; }

        public List<CacheInvalidation> Published { get; } = [];

        public bool IsDelivering => Delivering;

        public ValueTask PublishAsync(CacheInvalidation message, CancellationToken cancellationToken = default)
        {
            Published.Add(message);
            Deliver(message);
            return ValueTask.CompletedTask;
        }

        public void Subscribe(Action<CacheInvalidation> handler) => _handlers += handler;

        public void Deliver(CacheInvalidation message) => _handlers?.Invoke(message);
    }

    /// <summary>Only the calls the cache changes; the others are not reached by these tests.</summary>
    private sealed class CountingStore : IDubbingStore
    {
        public long Used { get; set; }

        public int Reads { get; private set; }

        public TaskCompletionSource<long>? Hold { get; set; }

        public Task<long> CreditsUsedAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
        {
            Reads++;
            if (Hold is { } hold)
            {
                Hold = null;
                return hold.Task;
            }
            return Task.FromResult(Used);
        }

        public Task<ChargeOutcome> ChargeAsync(Dub dub, DubStatus expected, CreditEntry charge, int allowance, CancellationToken ct = default) =>
            Task.FromResult(new ChargeOutcome(ChargeStatus.Charged, allowance - (int)Used));

        public Task<bool> UpdateDubWithRefundAsync(Dub dub, DubStatus expected, string refundEntryId, DateTimeOffset at, CancellationToken ct = default) =>
            Task.FromResult(true);

        public Task AddDubAsync(Dub dub, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<Dub?> GetDubAsync(string dubId, string userId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<Dub?> GetDubAsync(string dubId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> UpdateDubAsync(Dub dub, DubStatus expected, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<Dub>> PendingDubsAsync(CancellationToken ct = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<Dub>> PageDubsByOrgAsync(string orgId, int limit, string? after, CancellationToken ct = default) => throw new NotSupportedException();
        public Task UpsertStockVoicesAsync(IEnumerable<Voice> voices, CancellationToken ct = default) => throw new NotSupportedException();
        public Task AddVoiceAsync(Voice voice, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<Voice?> GetVoiceAsync(string voiceId, string userId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<Voice?> GetVoiceAsync(string voiceId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> UpdateVoiceAsync(Voice voice, VoiceStatus expected, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<Voice>> ListVoicesAsync(string userId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<Voice>> PendingVoicesAsync(CancellationToken ct = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<CreditEntry>> CreditEntriesAsync(string dubId, CancellationToken ct = default) => throw new NotSupportedException();
    }
}
