using Tollgate.Limits;

namespace Tollgate.Dubbing;

/// <summary>
/// Durable dubs, voices and the dubbing credit ledger (SQLite by default). Every status change is compare-and-set on
/// the status the caller saw, so two workers (or a worker and a caller) can never both move a dub on; a change and
/// its ledger row are written together or not at all.
/// </summary>
public interface IDubbingStore
{
    Task AddDubAsync(Dub dub, CancellationToken ct = default);

    /// <summary>The dub, only if it belongs to <paramref name="userId"/>: another user's dub does not exist for them.</summary>
    Task<Dub?> GetDubAsync(string dubId, string userId, CancellationToken ct = default);

    /// <summary>The dub whoever owns it (for workers).</summary>
    Task<Dub?> GetDubAsync(string dubId, CancellationToken ct = default);

    /// <summary>Moves a dub from <paramref name="expected"/> to <paramref name="dub"/>'s state; false (nothing written) when its status is no longer <paramref name="expected"/>.</summary>
    Task<bool> UpdateDubAsync(Dub dub, DubStatus expected, CancellationToken ct = default);

    /// <summary>
    /// In one transaction: if the organization has at least <paramref name="charge"/>'s credits left of
    /// <paramref name="allowance"/> in the charge's month and the dub is still <paramref name="expected"/>, moves it to
    /// <paramref name="dub"/>'s state and appends the charge (once per entry id).
    /// </summary>
    Task<ChargeOutcome> ChargeAsync(Dub dub, DubStatus expected, CreditEntry charge, int allowance, CancellationToken ct = default);

    /// <summary>
    /// In one transaction: moves the dub (compare-and-set, as <see cref="UpdateDubAsync"/>) and, if it was charged and
    /// not yet refunded, appends a refund under <paramref name="refundEntryId"/> that gives the charge back in the charge's month.
    /// </summary>
    Task<bool> UpdateDubWithRefundAsync(Dub dub, DubStatus expected, string refundEntryId, DateTimeOffset at, CancellationToken ct = default);

    /// <summary>
    /// One page of an organization's dubs, newest first (<see cref="Dub.CreatedAt"/> descending, then id descending):
    /// at most <paramref name="limit"/>, those after the dub <paramref name="after"/> in that order when it is given
    /// (none when it names no dub).
    /// </summary>
    Task<IReadOnlyList<Dub>> PageDubsByOrgAsync(string orgId, int limit, string? after, CancellationToken ct = default);

    /// <summary>Dubs a worker has to move on (<see cref="DubLifecycle.IsWorkPending"/>), oldest change first.</summary>
    Task<IReadOnlyList<Dub>> PendingDubsAsync(CancellationToken ct = default);

    /// <summary>Inserts or refreshes the stock catalogue (voices without an owner).</summary>
    Task UpsertStockVoicesAsync(IEnumerable<Voice> voices, CancellationToken ct = default);

    Task AddVoiceAsync(Voice voice, CancellationToken ct = default);

    /// <summary>A voice <paramref name="userId"/> may see: a stock voice, or one of their own custom voices.</summary>
    Task<Voice?> GetVoiceAsync(string voiceId, string userId, CancellationToken ct = default);

    /// <summary>The voice whoever owns it (for workers).</summary>
    Task<Voice?> GetVoiceAsync(string voiceId, CancellationToken ct = default);

    Task<bool> UpdateVoiceAsync(Voice voice, VoiceStatus expected, CancellationToken ct = default);

    /// <summary>Every voice <paramref name="userId"/> may see: the stock catalogue and their own custom voices, in id order.</summary>
    Task<IReadOnlyList<Voice>> ListVoicesAsync(string userId, CancellationToken ct = default);

    /// <summary>Custom voices in training (a restart resumes them).</summary>
    Task<IReadOnlyList<Voice>> PendingVoicesAsync(CancellationToken ct = default);

    /// <summary>Credits the organization has spent in <paramref name="period"/>: the sum of its ledger rows there.</summary>
    Task<long> CreditsUsedAsync(string orgId, MonthPeriod period, CancellationToken ct = default);

    /// <summary>The ledger rows of one dub, oldest first.</summary>
    Task<IReadOnlyList<CreditEntry>> CreditEntriesAsync(string dubId, CancellationToken ct = default);
}
