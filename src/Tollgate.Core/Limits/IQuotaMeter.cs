namespace Tollgate.Limits;

/// <summary>
/// Monthly audio-time quotas (DESIGN 3.3), in milliseconds. A request's <see cref="QuotaScope"/> names every pool it
/// counts against — its (organization, model) pool and, when the organization has one, its all-models cap — and every
/// call decides across all of them at once: parallel requests can never together pass any limit, and no caller can
/// observe half a decision. The meter holds what is committed (seeded from the ledger) plus what requests in flight
/// have reserved; the ledger, not the meter, is the durable record. A distributed implementation honours the same
/// contract in one round trip per call.
/// </summary>
public interface IQuotaMeter
{
    /// <summary>
    /// Reserves <paramref name="ms"/> more for <paramref name="reservation"/>: all of it or nothing
    /// (<see cref="ReserveMode.Exact"/>, a batch file), or as much as fits in every pool (<see cref="ReserveMode.UpTo"/>,
    /// a stream's next audio). The answer carries the grown reservation; the caller keeps that value.
    /// </summary>
    ValueTask<QuotaGrant> ReserveAsync(QuotaReservation reservation, long ms, ReserveMode mode, CancellationToken cancellationToken = default);

    /// <summary>
    /// Turns <paramref name="chargedMs"/> (at most what is reserved) into committed usage in every pool of the
    /// reservation and gives the rest back. Call it once, after the ledger holds the charge.
    /// </summary>
    ValueTask CommitAsync(QuotaReservation reservation, long chargedMs, CancellationToken cancellationToken = default);

    /// <summary>Gives the whole reservation back: nothing is charged.</summary>
    ValueTask ReleaseAsync(QuotaReservation reservation, CancellationToken cancellationToken = default);

    /// <summary>What a request of <paramref name="scope"/> could still reserve now (the tightest pool decides).</summary>
    ValueTask<QuotaStanding> StandingAsync(QuotaScope scope, CancellationToken cancellationToken = default);

    /// <summary>Committed and reserved milliseconds of one pool in a month (<see cref="QuotaScope.AllModels"/> for the organization's total).</summary>
    ValueTask<PoolUsage> UsageAsync(PoolKey pool, MonthPeriod period, CancellationToken cancellationToken = default);
}

/// <summary>How much of a reservation request may be granted.</summary>
public enum ReserveMode
{
    /// <summary>All of it or nothing.</summary>
    Exact,

    /// <summary>As much as fits, possibly nothing.</summary>
    UpTo,
}

/// <summary>The pools one request counts against in one month, with the limits that judge it.</summary>
/// <param name="OrgId">The organization.</param>
/// <param name="Model">The model: the (organization, model) pool.</param>
/// <param name="Period">The calendar month (UTC).</param>
/// <param name="LimitMs">The request's own key's limit for the model pool.</param>
/// <param name="OrgCapMs">The organization's all-models cap; 0 when it has none.</param>
public readonly record struct QuotaScope(string OrgId, string Model, MonthPeriod Period, long LimitMs, long OrgCapMs)
{
    /// <summary>The model name of an organization's all-models pool.</summary>
    public const string AllModels = "*";

    public PoolKey Pool => new(OrgId, Model);

    public PoolKey OrganizationPool => new(OrgId, AllModels);

    public bool HasOrganizationCap => OrgCapMs > 0;
}

/// <summary>Audio time a request holds until it commits or releases: a value, passed back to the meter that issued it.</summary>
/// <param name="Scope">The pools and limits.</param>
/// <param name="Id">The meter's name for it (0 before the first reservation).</param>
/// <param name="Milliseconds">Held in every pool of the scope.</param>
public readonly record struct QuotaReservation(QuotaScope Scope, long Id, long Milliseconds)
{
    /// <summary>An empty reservation for a request of <paramref name="scope"/>.</summary>
    public static QuotaReservation Begin(QuotaScope scope) => new(scope, 0, 0);
}

/// <summary>What <see cref="IQuotaMeter.ReserveAsync"/> granted.</summary>
/// <param name="Reservation">The reservation grown by <paramref name="GrantedMs"/>.</param>
/// <param name="GrantedMs">Added by this call (0 when refused).</param>
/// <param name="RemainingMs">What the tightest pool has left after this call.</param>
/// <param name="LimitedByOrganizationCap">Whether the organization's cap, not the model pool, is the tightest.</param>
public readonly record struct QuotaGrant(QuotaReservation Reservation, long GrantedMs, long RemainingMs, bool LimitedByOrganizationCap);

/// <summary>What a scope could still reserve: the tightest pool's remainder and which pool that is.</summary>
public readonly record struct QuotaStanding(long RemainingMs, bool LimitedByOrganizationCap);

/// <summary>A pool's figures for one month.</summary>
public readonly record struct PoolUsage(long CommittedMs, long ReservedMs);
