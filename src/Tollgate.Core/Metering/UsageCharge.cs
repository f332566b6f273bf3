using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>
/// One ledger row: audio time charged to an (organization, model) pool by one request (DESIGN 3.3). Rows are only
/// ever appended; a second row with the same <see cref="RequestId"/> is ignored, so a retried write never double-charges.
/// </summary>
public sealed record UsageCharge(
    string RequestId,
    string OrgId,
    string UserId,
    string KeyId,
    string Model,
    long Milliseconds,
    MonthPeriod Period,
    DateTimeOffset At);

/// <summary>Committed audio time of one model in one month, derived from the ledger.</summary>
public readonly record struct ModelUsageTotal(string Model, long Milliseconds, long Charges);

/// <summary>Committed audio time of one model on one UTC day of a month, derived from the ledger.</summary>
public readonly record struct DailyUsageTotal(string Model, DateOnly Day, long Milliseconds)
{
    /// <summary><paramref name="day"/> moved into <paramref name="period"/>: a day before it is its first, a day after it its last.</summary>
    public static DateOnly DayWithin(MonthPeriod period, DateOnly day)
    {
        var first = new DateOnly(period.Year, period.Month, 1);
        var last = first.AddMonths(1).AddDays(-1);
        return day < first ? first : day > last ? last : day;
    }
}
