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
}
