using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Server.Admin.Insights;

/// <summary>One UTC day of a model's month: the audio the ledger charged on it.</summary>
internal sealed record DailyUsagePointDto(DateOnly Date, long UsedMs, double UsedHours);

/// <summary>One model's month, day by day (every day of the month, zero when nothing was charged), against its limit.</summary>
internal sealed record DailyModelUsageDto(string Model, long UsedMs, double UsedHours, long? LimitMs, double? LimitHours, IReadOnlyList<DailyUsagePointDto> Days);

/// <summary>The answer of <c>GET /admin/orgs/{orgId}/usage/daily?month=YYYY-MM</c>.</summary>
internal sealed record DailyUsageDto(string OrgId, string Month, DateTimeOffset ResetAt, IReadOnlyList<DailyModelUsageDto> Models);

/// <summary>
/// An organization's audio per model per UTC day of a month, from one aggregate query over the ledger
/// (<see cref="IUsageLedger.DailyTotalsAsync"/>), so the days add up to the usage report's month to the millisecond.
/// Models appear when an active key is entitled to them or when they were charged in the month; the limit is the most
/// generous active key's (<see cref="OrgLimits"/>), null when no active key is entitled to the model.
/// </summary>
internal sealed class DailyUsageQuery(IIdentityStore store, IUsageLedger ledger, TimeProvider time)
{
    /// <summary>The month's figures, or null when there is no organization <paramref name="orgId"/>.</summary>
    /// <param name="month">The month; null: the current one (UTC, by the server's clock).</param>
    public async Task<DailyUsageDto?> GetAsync(string orgId, MonthPeriod? month, CancellationToken ct = default)
    {
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return null;
        }
        var period = month ?? MonthPeriod.Current(time);
        var limits = await OrgLimits.ActiveAsync(store, orgId, time.GetUtcNow(), ct);
        var daily = await ledger.DailyTotalsAsync(orgId, period, ct);
        var first = new DateOnly(period.Year, period.Month, 1);
        var dayCount = DateTime.DaysInMonth(period.Year, period.Month);
        var models = limits.Keys.Concat(daily.Select(d => d.Model)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var rows = new List<DailyModelUsageDto>();
        foreach (var model in models)
        {
            var ms = new long[dayCount];
            foreach (var d in daily)
            {
                if (string.Equals(d.Model, model, StringComparison.Ordinal))
                {
                    ms[d.Day.DayNumber - first.DayNumber] += d.Milliseconds;
                }
            }
            var used = ms.Sum();
            long? limit = limits.TryGetValue(model, out var l) ? l.MonthlyAudioMs : null;
            rows.Add(new DailyModelUsageDto(model, used, OrgLimits.ToHours(used), limit, limit is { } lm ? OrgLimits.ToHours(lm) : null,
                [.. ms.Select((v, i) => new DailyUsagePointDto(first.AddDays(i), v, OrgLimits.ToHours(v)))]));
        }
        return new DailyUsageDto(orgId, period.ToString(), period.End, rows);
    }
}
