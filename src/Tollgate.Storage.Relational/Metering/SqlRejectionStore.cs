using Dapper;
using Tollgate.Metering;

namespace Tollgate.Storage.Relational.Metering;

/// <summary>
/// Admission refusals per (organization, hour, status, code) in table <c>rejection_counts</c>: each write adds to the
/// totals (<c>INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count</c>), so nodes writing at once add up.
/// The requests of no known organization are kept under <c>org_id = ''</c> (a key column cannot be NULL).
/// </summary>
internal sealed class SqlRejectionStore(SqlDatabase db) : IRejectionStore
{
    private const string NoOrg = "";

    public async Task AddAsync(IReadOnlyCollection<RejectionCount> counts, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count == 0)
        {
            return;
        }
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO rejection_counts(org_id, hour, status, code, count) VALUES (@OrgId, @Hour, @Status, @Code, @Count)
            ON CONFLICT(org_id, hour, status, code) DO UPDATE SET count = rejection_counts.count + excluded.count
            """,
            // In key order, so two nodes adding to the same rows lock them in the same order (never a deadlock).
            counts.OrderBy(r => r.OrgId ?? NoOrg, StringComparer.Ordinal).ThenBy(r => r.Hour).ThenBy(r => r.Status).ThenBy(r => r.Code, StringComparer.Ordinal)
                .Select(r => new { OrgId = r.OrgId ?? NoOrg, Hour = db.Time(RejectionCount.HourOf(r.Hour)), r.Status, r.Code, r.Count }),
            tx, cancellationToken: ct)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RejectionCount>> ListAsync(string? orgId, DateTimeOffset since, CancellationToken ct = default)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<(object Hour, int Status, string Code, long Count)>(new CommandDefinition(
            "SELECT hour, status, code, count FROM rejection_counts WHERE org_id = @OrgId AND hour >= @Since ORDER BY hour, status, code",
            new { OrgId = orgId ?? NoOrg, Since = db.Time(RejectionCount.HourOf(since)) }, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.Select(r => new RejectionCount(orgId, db.ReadTime(r.Hour), r.Status, r.Code, r.Count))];
    }
}
