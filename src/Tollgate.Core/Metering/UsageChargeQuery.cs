using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>
/// A place in an organization's ledger in export order (<see cref="UsageCharge.At"/>, then
/// <see cref="UsageCharge.RequestId"/> in ordinal order): the last row a reader has seen. Rows are only ever appended
/// and request ids are unique, so the rows after a position are the same whenever they are asked for, however many
/// rows share one millisecond.
/// </summary>
/// <param name="At">The row's time, as stored (to the millisecond, UTC).</param>
/// <param name="RequestId">The row's request id.</param>
public readonly record struct LedgerPosition(DateTimeOffset At, string RequestId)
{
    /// <summary>The position of <paramref name="charge"/>, to read on after it.</summary>
    public static LedgerPosition Of(UsageCharge charge)
    {
        ArgumentNullException.ThrowIfNull(charge);
        return new LedgerPosition(charge.At, charge.RequestId);
    }
}

/// <summary>
/// Which rows one page of <see cref="IUsageLedger.PageAsync"/> holds: an organization's rows in export order, those
/// charged to <see cref="Period"/> only when it is set, at or after <see cref="Since"/> when set, strictly after
/// <see cref="After"/> when set, at most <see cref="Limit"/> of them.
/// </summary>
/// <param name="OrgId">The organization.</param>
/// <param name="Limit">The most rows to return (at least 1).</param>
public sealed record UsageChargeQuery(string OrgId, int Limit)
{
    /// <summary>Only the rows charged to this month (<see cref="UsageCharge.Period"/>: the month the call was admitted in, as the usage report counts them).</summary>
    public MonthPeriod? Period { get; init; }

    /// <summary>Only the rows whose <see cref="UsageCharge.At"/> is at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only the rows after this position (the last row of the previous page).</summary>
    public LedgerPosition? After { get; init; }
}
