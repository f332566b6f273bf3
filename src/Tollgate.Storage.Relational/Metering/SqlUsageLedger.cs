using Dapper;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Storage.Relational.Metering;

/// <summary>
/// The ledger (table <c>usage_charges</c>): one row per charge, keyed by request id (so a repeated write is a no-op),
/// committed durably (SQLite's full fsync, PostgreSQL's synchronous commit) before the caller goes on, so a kill -9
/// never loses a recorded charge.
/// </summary>
internal sealed class SqlUsageLedger : IUsageLedger
{
    private readonly SqlDatabase _db;

    public SqlUsageLedger(SqlDatabase db)
    {
        _db = db;
    }

    public async Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var inserted = await c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO usage_charges(request_id, org_id, user_id, key_id, model, ms, period, at)
            VALUES (@RequestId, @OrgId, @UserId, @KeyId, @Model, @Milliseconds, @Period, @At)
            ON CONFLICT(request_id) DO NOTHING
            """,
            new
            {
                charge.RequestId,
                charge.OrgId,
                charge.UserId,
                charge.KeyId,
                charge.Model,
                charge.Milliseconds,
                Period = charge.Period.ToString(),
                At = _db.Time(charge.At),
            },
            cancellationToken: ct)).ConfigureAwait(false);
        return inserted == 1;
    }

    public async Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<(string Model, long Ms, long Charges)>(new CommandDefinition(
            "SELECT model, CAST(SUM(ms) AS BIGINT), COUNT(*) FROM usage_charges WHERE org_id = @orgId AND period = @Period GROUP BY model ORDER BY model",
            new { orgId, Period = period.ToString() }, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.Select(r => new ModelUsageTotal(r.Model, r.Ms, r.Charges))];
    }

    public async Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsByAsync(string orgId, MonthPeriod period, string? userId, string? keyId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<(string Model, long Ms, long Charges)>(new CommandDefinition(
            """
            SELECT model, CAST(SUM(ms) AS BIGINT), COUNT(*) FROM usage_charges
            WHERE org_id = @orgId AND period = @Period AND (@userId IS NULL OR user_id = @userId) AND (@keyId IS NULL OR key_id = @keyId)
            GROUP BY model ORDER BY model
            """,
            new { orgId, userId, keyId, Period = period.ToString() }, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.Select(r => new ModelUsageTotal(r.Model, r.Ms, r.Charges))];
    }

    public async Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<(string RequestId, string OrgId, string UserId, string KeyId, string Model, long Ms, string Period, object At)>(
            new CommandDefinition(
                $"SELECT request_id, org_id, user_id, key_id, model, ms, period, at FROM usage_charges WHERE org_id = @orgId AND period = @Period ORDER BY at, {_db.InsertionOrder}",
                new { orgId, Period = period.ToString() }, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.Select(r => new UsageCharge(r.RequestId, r.OrgId, r.UserId, r.KeyId, r.Model, r.Ms,
            MonthPeriod.TryParse(r.Period, out var p) ? p : period,
            _db.ReadTime(r.At)))];
    }

    public async Task<int> KeyCountAsync(string orgId, string? model, MonthPeriod period, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        // COUNT is a bigint on PostgreSQL; a month's keys fit an int.
        return (int)await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(DISTINCT key_id) FROM usage_charges WHERE org_id = @orgId AND period = @Period AND (@model IS NULL OR model = @model)",
            new { orgId, model, Period = period.ToString() }, cancellationToken: ct)).ConfigureAwait(false);
    }
}
