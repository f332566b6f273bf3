using System.Globalization;
using Dapper;
using Tollgate.Jobs;

namespace Tollgate.Storage.Sqlite.Jobs;

/// <summary>
/// Durable jobs in the embedded SQLite file. A claim is one UPDATE … RETURNING statement, which SQLite runs under its
/// single write lock, so two engines (threads or processes on the same file) never claim the same job; every later
/// change names the claim's holder in its WHERE clause, so a holder whose claim was taken over changes nothing. The
/// table is made by migration 0002.
/// </summary>
internal sealed class SqliteJobStore : IJobStore
{
    private const string Columns =
        "id, kind, subject, state, attempts, max_attempts, next_attempt_at, claim_holder, claimed_until, last_error, created_at, updated_at";

    private readonly SqliteDatabase _db;
    private readonly TimeProvider _time;

    public SqliteJobStore(SqliteDatabase db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    public async Task<bool> EnqueueAsync(NewJob job, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        var now = StoreTime.ToText(_time.GetUtcNow());
        await using var c = await _db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO jobs({Columns}) VALUES (@Id, @Kind, @Subject, 'queued', 0, @MaxAttempts, @Due, NULL, NULL, NULL, @Now, @Now)
            ON CONFLICT(id) DO NOTHING
            """,
            new { job.Id, job.Kind, job.Subject, job.MaxAttempts, Due = job.NotBefore is { } at ? StoreTime.ToText(at) : now, Now = now },
            cancellationToken: ct)) == 1;
    }

    public async Task<Job?> GetAsync(string jobId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs WHERE id = @jobId", new { jobId }, cancellationToken: ct));
        return row?.ToJob();
    }

    public async Task<IReadOnlyList<Job>> ListAsync(string? kind = null, JobState? state = null, string? subject = null, int limit = 100, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var c = await _db.OpenAsync(ct);
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition(
            $"""
            SELECT {Columns} FROM jobs
            WHERE (@kind IS NULL OR kind = @kind) AND (@State IS NULL OR state = @State) AND (@subject IS NULL OR subject = @subject)
            ORDER BY created_at, id LIMIT @limit
            """, new { kind, State = state is { } s ? Wire(s) : null, subject, limit }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToJob())];
    }

    public async Task<IReadOnlyList<Job>> ClaimAsync(IReadOnlyCollection<string> kinds, int max, string holder, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentException.ThrowIfNullOrEmpty(holder);
        if (kinds.Count == 0)
        {
            return [];
        }
        var now = _time.GetUtcNow();
        await using var c = await _db.OpenAsync(ct);
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition(
            $"""
            UPDATE jobs SET state = 'running', claim_holder = @holder, claimed_until = @Until, attempts = attempts + 1, updated_at = @Now
            WHERE id IN (
                SELECT id FROM jobs
                WHERE kind IN @kinds AND ((state = 'queued' AND next_attempt_at <= @Now) OR (state = 'running' AND claimed_until <= @Now))
                ORDER BY next_attempt_at, created_at, id
                LIMIT @max)
            RETURNING {Columns}
            """, new { holder, Until = StoreTime.ToText(now + ttl), Now = StoreTime.ToText(now), kinds = kinds.ToArray(), max }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToJob()).OrderBy(j => j.NextAttemptAt).ThenBy(j => j.CreatedAt).ThenBy(j => j.Id, StringComparer.Ordinal)];
    }

    public async Task<bool> RenewAsync(string jobId, string holder, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var now = _time.GetUtcNow();
        await using var c = await _db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE jobs SET claimed_until = @Until, updated_at = @Now
            WHERE id = @jobId AND state = 'running' AND claim_holder = @holder
            """, new { jobId, holder, Until = StoreTime.ToText(now + ttl), Now = StoreTime.ToText(now) }, cancellationToken: ct)) == 1;
    }

    public async Task<bool> CompleteAsync(string jobId, string holder, CancellationToken ct = default)
    {
        await using var c = await _db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE jobs SET state = 'succeeded', claim_holder = NULL, claimed_until = NULL, updated_at = @Now
            WHERE id = @jobId AND state = 'running' AND claim_holder = @holder
            """, new { jobId, holder, Now = StoreTime.ToText(_time.GetUtcNow()) }, cancellationToken: ct)) == 1;
    }

    public async Task<Job?> FailAsync(string jobId, string holder, string error, TimeSpan? retryAfter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (retryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "A retry cannot be due in the past.");
        }
        var now = _time.GetUtcNow();
        await using var c = await _db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"""
            UPDATE jobs SET
                state = CASE WHEN @Retry AND attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                next_attempt_at = CASE WHEN @Retry AND attempts < max_attempts THEN @RetryAt ELSE next_attempt_at END,
                claim_holder = NULL, claimed_until = NULL, last_error = @error, updated_at = @Now
            WHERE id = @jobId AND state = 'running' AND claim_holder = @holder
            RETURNING {Columns}
            """, new { jobId, holder, error, Retry = retryAfter is not null, RetryAt = StoreTime.ToText(now + (retryAfter ?? TimeSpan.Zero)), Now = StoreTime.ToText(now) },
            cancellationToken: ct));
        return row?.ToJob();
    }

    public async Task<bool> ReleaseAsync(string jobId, string holder, CancellationToken ct = default)
    {
        var now = StoreTime.ToText(_time.GetUtcNow());
        await using var c = await _db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), next_attempt_at = @Now, claim_holder = NULL,
                claimed_until = NULL, updated_at = @Now
            WHERE id = @jobId AND state = 'running' AND claim_holder = @holder
            """, new { jobId, holder, Now = now }, cancellationToken: ct)) == 1;
    }

    private static string Wire(JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Succeeded => "succeeded",
        _ => "failed",
    };

    private static JobState ParseState(string wire) => wire switch
    {
        "queued" => JobState.Queued,
        "running" => JobState.Running,
        "succeeded" => JobState.Succeeded,
        "failed" => JobState.Failed,
        _ => throw new FormatException($"'{wire}' is not a job state."),
    };

    /// <summary>Times are stored to the millisecond in UTC (as the other Tollgate tables), so text order is time order.</summary>
    private sealed class JobRow
    {
        public string Id { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Subject { get; set; } = "";
        public string State { get; set; } = "";
        public long Attempts { get; set; }
        public long Max_Attempts { get; set; }
        public string Next_Attempt_At { get; set; } = "";
        public string? Claim_Holder { get; set; }
        public string? Claimed_Until { get; set; }
        public string? Last_Error { get; set; }
        public string Created_At { get; set; } = "";
        public string Updated_At { get; set; } = "";

        public Job ToJob() => new()
        {
            Id = Id,
            Kind = Kind,
            Subject = Subject,
            State = ParseState(State),
            Attempts = (int)Attempts,
            MaxAttempts = (int)Max_Attempts,
            NextAttemptAt = StoreTime.Parse(Next_Attempt_At),
            ClaimHolder = Claim_Holder,
            ClaimedUntil = Claimed_Until is { } until ? StoreTime.Parse(until) : null,
            LastError = Last_Error,
            CreatedAt = StoreTime.Parse(Created_At),
            UpdatedAt = StoreTime.Parse(Updated_At),
        };
    }
}
