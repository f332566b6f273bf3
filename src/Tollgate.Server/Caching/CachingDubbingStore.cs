using System.Collections.Concurrent;
using Tollgate.Caching;
using Tollgate.Dubbing;
using Tollgate.Limits;

namespace Tollgate.Server.Caching;

/// <summary>
/// The dubbing store with the organization's credits used per month cached (<c>GET /v1/me</c> and every dub answer read
/// them). Exact for the caller's own writes: a charge or refund through this node forgets the organization's figures
/// before it returns, and tells the other nodes (<see cref="ICacheInvalidation"/>, topic <see cref="Topic"/>), which
/// forget them when they hear it. A cached figure is trusted for <see cref="TrustWhileDelivering"/> while invalidations
/// reach this node, else for <see cref="TrustAlone"/>. A read that raced with a write is not kept (each organization's
/// figures carry a version that every write moves on). Everything else passes straight through.
/// </summary>
internal sealed partial class CachingDubbingStore : IDubbingStore
{
    public const string Topic = "credits";

    public static readonly TimeSpan TrustWhileDelivering = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan TrustAlone = TimeSpan.FromSeconds(1);

    private const int MaxEntries = 100_000;

    private readonly IDubbingStore _inner;
    private readonly TimeProvider _time;
    private readonly ICacheInvalidation _invalidation;
    private readonly ILogger _logger;
    private readonly long _trustDeliveringTicks;
    private readonly long _trustAloneTicks;
    private readonly ConcurrentDictionary<(string OrgId, int Month), Entry> _used = new();
    private readonly ConcurrentDictionary<string, long> _versions = new(StringComparer.Ordinal);

    public CachingDubbingStore(IDubbingStore inner, TimeProvider time, ICacheInvalidation invalidation, ILogger<CachingDubbingStore> logger)
    {
        _inner = inner;
        _time = time;
        _invalidation = invalidation;
        _logger = logger;
        _trustDeliveringTicks = (long)(TrustWhileDelivering.TotalSeconds * time.TimestampFrequency);
        _trustAloneTicks = (long)(TrustAlone.TotalSeconds * time.TimestampFrequency);
        invalidation.Subscribe(OnInvalidation);
    }

    public async Task<long> CreditsUsedAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
    {
        var key = (orgId, period.Index);
        var version = _versions.GetValueOrDefault(orgId);
        var now = _time.GetTimestamp();
        if (_used.TryGetValue(key, out var entry) && entry.Version == version
            && now - entry.CheckedAt < (_invalidation.IsDelivering ? _trustDeliveringTicks : _trustAloneTicks))
        {
            return entry.Used;
        }
        var used = await _inner.CreditsUsedAsync(orgId, period, ct).ConfigureAwait(false);
        // Kept only if no write moved the organization on while the store was read.
        if (_versions.GetValueOrDefault(orgId) == version)
        {
            if (_used.Count >= MaxEntries)
            {
                _used.Clear();
            }
            _used[key] = new Entry(used, now, version);
        }
        return used;
    }

    public async Task<ChargeOutcome> ChargeAsync(Dub dub, DubStatus expected, CreditEntry charge, int allowance, CancellationToken ct = default)
    {
        var outcome = await _inner.ChargeAsync(dub, expected, charge, allowance, ct).ConfigureAwait(false);
        if (outcome.Status == ChargeStatus.Charged)
        {
            await ChangedAsync(charge.OrgId).ConfigureAwait(false);
        }
        return outcome;
    }

    public async Task<bool> UpdateDubWithRefundAsync(Dub dub, DubStatus expected, string refundEntryId, DateTimeOffset at, CancellationToken ct = default)
    {
        var moved = await _inner.UpdateDubWithRefundAsync(dub, expected, refundEntryId, at, ct).ConfigureAwait(false);
        if (moved)
        {
            await ChangedAsync(dub.OrgId).ConfigureAwait(false);
        }
        return moved;
    }

    /// <summary>Forgets the organization's figures here, then tells the other nodes; the write itself is already durable.</summary>
    private async Task ChangedAsync(string orgId)
    {
        Forget(orgId);
        try
        {
            await _invalidation.PublishAsync(new CacheInvalidation(Topic, orgId)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogPublishFailed(_logger, ex, orgId);
        }
    }

    private void Forget(string orgId) => _versions.AddOrUpdate(orgId, 1, static (_, v) => v + 1);

    private void OnInvalidation(CacheInvalidation message)
    {
        if (message.IsEverything)
        {
            foreach (var orgId in _versions.Keys)
            {
                Forget(orgId);
            }
            _used.Clear();
        }
        else if (message.Topic == Topic)
        {
            Forget(message.Key);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Credits of {OrgId} changed, but the other nodes could not be told at once; they see it within their cache's trust")]
    private static partial void LogPublishFailed(ILogger logger, Exception ex, string orgId);

    private readonly record struct Entry(long Used, long CheckedAt, long Version);

    // ---- everything else passes straight through -------------------------------------------------------------

    public Task AddDubAsync(Dub dub, CancellationToken ct = default) => _inner.AddDubAsync(dub, ct);

    public Task<Dub?> GetDubAsync(string dubId, string userId, CancellationToken ct = default) => _inner.GetDubAsync(dubId, userId, ct);

    public Task<Dub?> GetDubAsync(string dubId, CancellationToken ct = default) => _inner.GetDubAsync(dubId, ct);

    public Task<bool> UpdateDubAsync(Dub dub, DubStatus expected, CancellationToken ct = default) => _inner.UpdateDubAsync(dub, expected, ct);

    public Task<IReadOnlyList<Dub>> PendingDubsAsync(CancellationToken ct = default) => _inner.PendingDubsAsync(ct);

    public Task<IReadOnlyList<Dub>> PageDubsByOrgAsync(string orgId, int limit, string? after, CancellationToken ct = default) =>
        _inner.PageDubsByOrgAsync(orgId, limit, after, ct);

    public Task UpsertStockVoicesAsync(IEnumerable<Voice> voices, CancellationToken ct = default) => _inner.UpsertStockVoicesAsync(voices, ct);

    public Task AddVoiceAsync(Voice voice, CancellationToken ct = default) => _inner.AddVoiceAsync(voice, ct);

    public Task<Voice?> GetVoiceAsync(string voiceId, string userId, CancellationToken ct = default) => _inner.GetVoiceAsync(voiceId, userId, ct);

    public Task<Voice?> GetVoiceAsync(string voiceId, CancellationToken ct = default) => _inner.GetVoiceAsync(voiceId, ct);

    public Task<bool> UpdateVoiceAsync(Voice voice, VoiceStatus expected, CancellationToken ct = default) => _inner.UpdateVoiceAsync(voice, expected, ct);

    public Task<IReadOnlyList<Voice>> ListVoicesAsync(string userId, CancellationToken ct = default) => _inner.ListVoicesAsync(userId, ct);

    public Task<IReadOnlyList<Voice>> PendingVoicesAsync(CancellationToken ct = default) => _inner.PendingVoicesAsync(ct);

    public Task<IReadOnlyList<CreditEntry>> CreditEntriesAsync(string dubId, CancellationToken ct = default) => _inner.CreditEntriesAsync(dubId, ct);
}
