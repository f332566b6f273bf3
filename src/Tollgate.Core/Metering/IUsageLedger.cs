using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>The durable, append-only record of charges (SQLite by default). Totals are always derived from it.</summary>
public interface IUsageLedger
{
    /// <summary>Appends <paramref name="charge"/> durably; false when a row with its request id already exists (nothing written).</summary>
    Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default);

    /// <summary>Committed milliseconds (and rows) per model of an organization in a month, in model-name order (the in-process meter is seeded from it).</summary>
    Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default);

    /// <summary>The rows of an organization in a month, oldest first (for audits and tests).</summary>
    Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId, MonthPeriod period, CancellationToken ct = default);

    /// <summary>
    /// One page of an organization's rows for export (billing), in export order: <see cref="UsageCharge.At"/> ascending,
    /// then <see cref="UsageCharge.RequestId"/> in ordinal order, filtered as <paramref name="query"/> says. Reading on
    /// from <see cref="LedgerPosition.Of"/> the last row returned neither skips nor repeats a row, even among rows of
    /// the same millisecond.
    /// </summary>
    Task<IReadOnlyList<UsageCharge>> PageAsync(UsageChargeQuery query, CancellationToken ct = default);

    /// <summary>
    /// How many distinct keys were charged in an organization's month: for <paramref name="model"/>, or for every model
    /// when it is null (a pooled quota refusal says through how many keys the pool was used). The default reads
    /// <see cref="ChargesAsync"/>; a store overrides it with one aggregate query.
    /// </summary>
    async Task<int> KeyCountAsync(string orgId, string? model, MonthPeriod period, CancellationToken ct = default) =>
        (await ChargesAsync(orgId, period, ct).ConfigureAwait(false))
            .Where(c => model is null || string.Equals(c.Model, model, StringComparison.Ordinal))
            .Select(c => c.KeyId).Distinct(StringComparer.Ordinal).Count();

    /// <summary>
    /// Committed milliseconds (and rows) per model of an organization in a month, counting only the charges of user
    /// <paramref name="userId"/> and/or key <paramref name="keyId"/> (either null: any), in model-name order. The default
    /// reads <see cref="ChargesAsync"/>; a store overrides it with one aggregate query.
    /// </summary>
    async Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsByAsync(string orgId, MonthPeriod period, string? userId, string? keyId, CancellationToken ct = default) =>
        [.. (await ChargesAsync(orgId, period, ct).ConfigureAwait(false))
            .Where(c => (userId is null || string.Equals(c.UserId, userId, StringComparison.Ordinal)) && (keyId is null || string.Equals(c.KeyId, keyId, StringComparison.Ordinal)))
            .GroupBy(c => c.Model, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ModelUsageTotal(g.Key, g.Sum(c => c.Milliseconds), g.LongCount()))];

    /// <summary>
    /// Committed milliseconds per (model, UTC day) of an organization's month, in (model, day) order, only the pairs
    /// that were charged. A charge counts on the UTC day of its <see cref="UsageCharge.At"/>; one settled after its
    /// month turned (admitted on the last day, charged just after midnight) counts on the month's last day, so the
    /// days of a month add up to its <see cref="MonthTotalsAsync"/>. The default reads <see cref="ChargesAsync"/>; a
    /// store overrides it with one aggregate query.
    /// </summary>
    async Task<IReadOnlyList<DailyUsageTotal>> DailyTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default) =>
        [.. (await ChargesAsync(orgId, period, ct).ConfigureAwait(false))
            .GroupBy(c => (c.Model, Day: DailyUsageTotal.DayWithin(period, DateOnly.FromDateTime(c.At.UtcDateTime))))
            .OrderBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Day)
            .Select(g => new DailyUsageTotal(g.Key.Model, g.Key.Day, g.Sum(c => c.Milliseconds)))];
}
