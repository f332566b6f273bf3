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

    public async Task<IReadOnlyList<DailyUsageTotal>> DailyTotalsAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        // One aggregate over the (org_id, period, …) index; a day outside the month (a charge settled after it turned)
        // folds into the month's nearest day here, so the days add up to the month's total.
        var rows = await c.QueryAsync<(string Model, string Day, long Ms)>(new CommandDefinition(
            $"SELECT model, {_db.UtcDay("at")} AS utc_day, CAST(SUM(ms) AS BIGINT) FROM usage_charges WHERE org_id = @orgId AND period = @Period GROUP BY model, utc_day ORDER BY model, utc_day",
            new { orgId, Period = period.ToString() }, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows
            .GroupBy(r => (r.Model, Day: DailyUsageTotal.DayWithin(period, DateOnly.ParseExact(r.Day, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))))
            .OrderBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Day)
            .Select(g => new DailyUsageTotal(g.Key.Model, g.Key.Day, g.Sum(r => r.Ms)))];
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

    public async Task<IReadOnlyList<UsageCharge>> PageAsync(UsageChargeQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        // Only the conditions asked for, so each engine sees a plain range on its (org_id, [period,] at, request_id) index.
        var sql = new System.Text.StringBuilder(
            "SELECT request_id, org_id, user_id, key_id, model, ms, period, at FROM usage_charges WHERE org_id = @OrgId");
        var parameters = new DynamicParameters();
        parameters.Add("OrgId", query.OrgId);
        if (query.Period is { } period)
        {
            sql.Append(" AND period = @Period");
            parameters.Add("Period", period.ToString());
        }
        if (query.Since is { } since)
        {
            // Stored times are whole milliseconds: "at or after" a time between two of them starts at the next one.
            sql.Append(" AND at >= @Since");
            parameters.Add("Since", _db.Time(CeilingToMillisecond(since)));
        }
        if (query.After is { } after)
        {
            // Row values: both engines compare them in order and walk the index from there.
            sql.Append(" AND (at, request_id) > (@AfterAt, @AfterId)");
            parameters.Add("AfterAt", _db.Time(after.At));
            parameters.Add("AfterId", after.RequestId);
        }
        sql.Append(" ORDER BY at, request_id LIMIT @Limit");
        parameters.Add("Limit", query.Limit);

        await using var c = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<(string RequestId, string OrgId, string UserId, string KeyId, string Model, long Ms, string Period, object At)>(
            new CommandDefinition(sql.ToString(), parameters, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.Select(r => new UsageCharge(r.RequestId, r.OrgId, r.UserId, r.KeyId, r.Model, r.Ms,
            MonthPeriod.TryParse(r.Period, out var p) ? p : throw new FormatException($"Ledger row {r.RequestId} has period '{r.Period}', not YYYY-MM."),
            _db.ReadTime(r.At)))];
    }

    private static DateTimeOffset CeilingToMillisecond(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        var below = ticks % TimeSpan.TicksPerMillisecond;
        return new DateTimeOffset(below == 0 ? ticks : ticks - below + TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
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
