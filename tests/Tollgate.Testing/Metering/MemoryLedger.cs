using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>
/// A ledger in memory, for tests of what reads a ledger (the quota meter is seeded from it): it keeps the ledger's
/// contract (<see cref="UsageLedgerContractTests"/>), and <see cref="FailNext"/> makes its next read fail as an
/// unreachable store would.
/// </summary>
public sealed class MemoryLedger : IUsageLedger
{
    public List<UsageCharge> Rows { get; } = [];

    public bool FailNext { get; set; }

    public Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default)
    {
        if (charge.Milliseconds < 0)
        {
            return Task.FromException<bool>(new ArgumentOutOfRangeException(nameof(charge), "A charge is never negative (the SQL stores' CHECK constraint)."));
        }
        lock (Rows)
        {
            if (Rows.Any(r => r.RequestId == charge.RequestId))
            {
                return Task.FromResult(false);
            }
            Rows.Add(charge);
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
    {
        if (FailNext)
        {
            FailNext = false;
            return Task.FromException<IReadOnlyList<ModelUsageTotal>>(new IOException("the store is unreachable"));
        }
        lock (Rows)
        {
            IReadOnlyList<ModelUsageTotal> totals = [.. Rows.Where(r => r.OrgId == orgId && r.Period == period)
                .GroupBy(r => r.Model).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ModelUsageTotal(g.Key, g.Sum(r => r.Milliseconds), g.Count()))];
            return Task.FromResult(totals);
        }
    }

    public Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
    {
        lock (Rows)
        {
            // Oldest first; rows of the same millisecond in the order they were appended (OrderBy is stable).
            IReadOnlyList<UsageCharge> rows = [.. Rows.Where(r => r.OrgId == orgId && r.Period == period).OrderBy(r => r.At)];
            return Task.FromResult(rows);
        }
    }

    public Task<IReadOnlyList<UsageCharge>> PageAsync(UsageChargeQuery query, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        lock (Rows)
        {
            IReadOnlyList<UsageCharge> rows = [.. Rows
                .Where(r => r.OrgId == query.OrgId)
                .Where(r => query.Period is not { } period || r.Period == period)
                .Where(r => query.Since is not { } since || r.At >= since)
                .Where(r => query.After is not { } after || r.At > after.At || (r.At == after.At && string.CompareOrdinal(r.RequestId, after.RequestId) > 0))
                .OrderBy(r => r.At).ThenBy(r => r.RequestId, StringComparer.Ordinal)
                .Take(query.Limit)];
            return Task.FromResult(rows);
        }
    }
}
