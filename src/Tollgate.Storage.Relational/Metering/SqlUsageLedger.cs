using System.Data.Common;
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
    /// <summary>The columns of a charge row, in the order <see cref="InsertAsync"/> binds them.</summary>
    private static readonly string[] Columns = ["request_id", "org_id", "user_id", "key_id", "model", "ms", "period", "at"];

    private readonly SqlDatabase _db;
    private readonly Lock _queueLock = new();
    private List<PendingCharge> _queue = [];
    private bool _writing;

    public SqlUsageLedger(SqlDatabase db)
    {
        _db = db;
    }

    /// <summary>
    /// Appends <paramref name="charge"/> and returns once it is committed. Concurrent appends share one transaction
    /// (group commit): a commit's fsync costs as much for one row as for twenty, and every metered request waits for
    /// its charge before its answer may complete, so one fsync per request was the largest single cost of a small
    /// forwarded request (about a third of its CPU in a profile).
    /// An append finding no write under way writes the queue itself, its own charge included; appends arriving while
    /// that transaction commits go into the next one, which a thread-pool task writes so the first caller can go on.
    /// Each caller still learns its own outcome: when a transaction fails its rows are written one by one, so a row
    /// the database refuses fails only its own caller. <paramref name="ct"/> is honoured until the charge is queued; a
    /// queued charge is written whatever happens to its caller, so no caller gives up on a charge that then lands.
    /// </summary>
    public async Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new PendingCharge(charge);
        bool write;
        lock (_queueLock)
        {
            _queue.Add(pending);
            write = !_writing;
            _writing = true;
        }
        if (write)
        {
            await WriteQueuedAsync().ConfigureAwait(false);
            if (MoreQueued())
            {
                _ = Task.Run(WriteAllQueuedAsync, CancellationToken.None);
            }
        }
        return await pending.Task.ConfigureAwait(false);
    }

    private async Task WriteAllQueuedAsync()
    {
        do
        {
            await WriteQueuedAsync().ConfigureAwait(false);
        }
        while (MoreQueued());
    }

    /// <summary>Whether charges wait for a next transaction; when none do, the writer's turn ends here.</summary>
    private bool MoreQueued()
    {
        lock (_queueLock)
        {
            _writing = _queue.Count > 0;
            return _writing;
        }
    }

    /// <summary>Commits what is queued now in one transaction and completes each of its callers.</summary>
    private async Task WriteQueuedAsync()
    {
        List<PendingCharge> batch;
        lock (_queueLock)
        {
            batch = _queue;
            _queue = [];
        }
        try
        {
            var inserted = await InsertAsync(batch).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].TrySetResult(inserted[i]);
            }
        }
        catch (Exception) when (batch.Count > 1)
        {
            foreach (var one in batch)
            {
                try
                {
                    one.TrySetResult((await InsertAsync([one]).ConfigureAwait(false))[0]);
                }
                catch (Exception e)
                {
                    one.TrySetException(e);
                }
            }
        }
        catch (Exception e)
        {
            batch[0].TrySetException(e);
        }
    }

    /// <summary>Inserts <paramref name="batch"/> in one transaction: for each row, whether it was new.</summary>
    private async Task<bool[]> InsertAsync(List<PendingCharge> batch)
    {
        await using var c = await _db.OpenWriterAsync().ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync().ConfigureAwait(false);
        await using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText =
            """
            INSERT INTO usage_charges(request_id, org_id, user_id, key_id, model, ms, period, at)
            VALUES (@request_id, @org_id, @user_id, @key_id, @model, @ms, @period, @at)
            ON CONFLICT(request_id) DO NOTHING
            """;
        var parameters = new DbParameter[Columns.Length];
        for (var i = 0; i < Columns.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = Columns[i];
            command.Parameters.Add(parameters[i]);
        }
        var inserted = new bool[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var charge = batch[i].Charge;
            parameters[0].Value = charge.RequestId;
            parameters[1].Value = charge.OrgId;
            parameters[2].Value = charge.UserId;
            parameters[3].Value = charge.KeyId;
            parameters[4].Value = charge.Model;
            parameters[5].Value = charge.Milliseconds;
            parameters[6].Value = charge.Period.ToString();
            parameters[7].Value = _db.Time(charge.At);
            inserted[i] = await command.ExecuteNonQueryAsync().ConfigureAwait(false) == 1;
        }
        await tx.CommitAsync().ConfigureAwait(false);
        return inserted;
    }

    /// <summary>A charge waiting for its transaction; completed (off the writer's thread) with whether it was new.</summary>
    private sealed class PendingCharge(UsageCharge charge) : TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public UsageCharge Charge { get; } = charge;
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
