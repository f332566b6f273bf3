using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admin;

/// <summary>One model's pooled figures for a month; hours for people, milliseconds for exact arithmetic.</summary>
internal sealed record ModelUsageDto(
    string Model,
    double UsedHours,
    long UsedMs,
    double? LimitHours,
    double? RemainingHours,
    long? RemainingMs,
    long ReservedMs,
    long Charges,
    int InFlight,
    int? ConcurrencyLimit);

/// <summary>The answer of <c>GET /admin/orgs/{orgId}/usage?month=YYYY-MM</c>.</summary>
internal sealed record UsageReportDto(string OrgId, string Month, DateTimeOffset ResetAt, double? OrganizationCapHours, IReadOnlyList<ModelUsageDto> Models);

/// <summary>
/// Usage per model of an organization: what the ledger has charged in the month, against the limit of the most
/// generous active key (each request is judged by its own key, so that is the most any request can reach), plus
/// what is in flight right now. Models appear when a key is entitled to them or when they were charged.
/// </summary>
internal static class UsageReport
{
    public static async Task<IResult> GetAsync(string orgId, string? month, IIdentityStore store, IUsageLedger ledger,
        IQuotaMeter meter, ILeaseTable leases, QuotaOptions quotaOptions, TimeProvider time, CancellationToken ct)
    {
        var current = MonthPeriod.Current(time);
        var period = current;
        if (month is not null && !MonthPeriod.TryParse(month, out period))
        {
            return ApiError.Result(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter,
                $"Invalid month='{month}'. Expected YYYY-MM, e.g. {current}.");
        }
        return await BuildAsync(orgId, period, store, ledger, meter, leases, quotaOptions, time, ct) is { } report
            ? TypedResults.Ok(report)
            : ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No organization '{orgId}'.");
    }

    /// <summary>The report of an organization for a month (the Admin API's and the console's); null when there is no such organization.</summary>
    public static async Task<UsageReportDto?> BuildAsync(string orgId, MonthPeriod period, IIdentityStore store, IUsageLedger ledger,
        IQuotaMeter meter, ILeaseTable leases, QuotaOptions quotaOptions, TimeProvider time, CancellationToken ct)
    {
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return null;
        }
        var current = MonthPeriod.Current(time);
        var now = time.GetUtcNow();
        var keys = (await store.ListKeysAsync(orgId, ct)).Where(k => !k.IsRevoked && !k.IsExpiredAt(now)).ToList();
        var totals = (await ledger.MonthTotalsAsync(orgId, period, ct)).ToDictionary(t => t.Model, StringComparer.Ordinal);
        var models = keys.SelectMany(k => k.Models.Keys).Concat(totals.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var rows = new List<ModelUsageDto>();
        foreach (var model in models)
        {
            var limits = keys.Select(k => k.Models.GetValueOrDefault(model)).OfType<ModelLimits>().ToList();
            var used = totals.TryGetValue(model, out var total) ? total.Milliseconds : 0;
            long? limitMs = limits.Count > 0 ? limits.Max(l => l.MonthlyAudioMs) : null;
            var pool = new PoolKey(orgId, model);
            var reserved = period == current ? (await meter.UsageAsync(pool, period, ct)).ReservedMs : 0;
            long? remainingMs = limitMs is { } l ? Math.Max(0, l - used - reserved) : null;
            rows.Add(new ModelUsageDto(model, ToHours(used), used, limitMs is { } lm ? ToHours(lm) : null,
                remainingMs is { } r ? ToHours(r) : null, remainingMs, reserved, total.Charges,
                period == current ? await leases.CountAsync(pool, ct) : 0,
                limits.Count > 0 ? limits.Max(x => x.Concurrency) : null));
        }
        var capMs = quotaOptions.CapMs(orgId);
        return new UsageReportDto(orgId, period.ToString(), period.End, capMs > 0 ? ToHours(capMs) : null, rows);
    }

    private static double ToHours(long ms) => Math.Round(ms / 3_600_000d, 6);
}
