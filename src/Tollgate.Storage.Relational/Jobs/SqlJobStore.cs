using System.Globalization;
using Dapper;
using Tollgate.Jobs;

namespace Tollgate.Storage.Relational.Jobs;

/// <summary>
/// Durable jobs (table <c>jobs</c>). A claim is one UPDATE … RETURNING statement over the due rows it picks: SQLite
/// runs it under its single write lock, PostgreSQL locks the picked rows as it picks them and passes by rows another
/// claimer has locked (<see cref="SqlDatabase.ClaimLock"/>), so two engines (threads, processes or nodes) never claim
/// the same job. Every later change names the claim's holder in its WHERE clause, so a holder whose claim was taken
/// over changes nothing.
/// </summary>
internal sealed class SqlJobStore : IJobStore
{
    private const string Columns =
        "id, kind, subject, state, attempts, max_attempts, next_attempt_at, claim_holder, claimed_until, last_error, created_at, updated_at";

    private readonly SqlDatabase _db;
    private readonly TimeProvider _time;

    public SqlJobStore(SqlDatabase db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    public async Task<bool> EnqueueAsync(NewJob job, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        var now = _db.Time(_time.GetUtcNow());
        await using var c = await _db.OpenWriterAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO jobs({Columns}) VALUES (@Id, @Kind, @Subject, 'queued', 0, @MaxAttempts, @Due, NULL, NULL, NULL, @Now, @Now)
            ON CONFLICT(id) DO NOTHING
            """,
            new { job.Id, job.Kind, job.Subject, job.MaxAttempts, Due = job.NotBefore is { } at ? _db.Time(at) : now, Now = now },
            cancellationToken: ct)) == 1;
    }

    public async Task<Job?> GetAsync(string jobId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs WHERE id = @jobId", new { jobId }, cancellationToken: ct));
        return row?.ToJob(_db);
    }

    public async Task<IReadOnlyList<Job>> ListAsync(string? kind = null, JobState? state = null, string? subject = null, int limit = 100, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition(
            $"""
            SELECT {Columns} FROM jobs
            WHERE (@kind IS NULL OR kind = @kind) AND (@State IS NULL OR state = @State) AND (@subject IS NULL OR subject = @subject)
            ORDER BY created_at, id LIMIT @limit
            """, new { kind, State = state is { } s ? Wire(s) : null, subject, limit }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToJob(_db))];
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
        await using var c = await _db.OpenWriterAsync(ct);
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition(
            $"""
            UPDATE jobs SET state = 'running', claim_holder = @holder, claimed_until = @Until, attempts = attempts + 1, updated_at = @Now
            WHERE id IN (
                SELECT id FROM jobs
                WHERE {_db.InList("kind", "@kinds")} AND ((state = 'queued' AND next_attempt_at <= @Now) OR (state = 'running' AND claimed_until <= @Now))
                ORDER BY next_attempt_at, created_at, id
                LIMIT @max {_db.ClaimLock})
            RETURNING {Columns}
            """, new { holder, Until = _db.Time(now + ttl), Now = _db.Time(now), kinds = kinds.ToArray(), max }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToJob(_db)).OrderBy(j => j.NextAttemptAt).ThenBy(j => j.CreatedAt).ThenBy(j => j.Id, StringComparer.Ordinal)];
    }

    public async Task<bool> RenewAsync(string jobId, string holder, TimeSpan ttl, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var now = _time.GetUtcNow();
        await using var c = await _db.OpenWriterAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE jobs SET claimed_until = @Until, updated_at = @Now
            WHERE id = @jobId AND state = 'running' AND claim_holder = @holder
            """, new { jobId, holder, Until = _db.Time(now + ttl), Now = _db.Time(now) }, cancellationToken: ct)) == 1;
    }

    public async Task<bool> CompleteAsync(string jobId, string holder, CancellationToken ct = default)
    {
        await using var c = await _db.OpenWriterAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE jobs SET state = 'succeeded', claim_holder = NULL, claimed_until = NULL, updated_at = @Now
            WHERE id = @jobId AND state = 'running' AND claim_holder = @holder
            """, new { jobId, holder, Now = _db.Time(_time.GetUtcNow()) }, cancellationToken: ct)) == 1;
    }

    public async Task<Job?> FailAsync(string jobId, string holder, string error, TimeSpan? retryAfter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (retryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "A retry cannot be due in the past.");
        }
        var now = _time.GetUtcNow();
        await using var c = await _db.OpenWriterAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"""
            UPDATE jobs SET
                state = CASE WHEN @Retry AND attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                next_attempt_at = CASE WHEN @Retry AND attempts < max_attempts THEN @RetryAt ELSE next_attempt_at END,
                claim_holder = NULL, claimed_until = NULL, last_error = @error, updated_at = @Now
            WHERE id = @jobId AND state = 'running' AND claim_holder = @holder
            RETURNING {Columns}
            """, new { jobId, holder, error, Retry = retryAfter is not null, RetryAt = _db.Time(now + (retryAfter ?? TimeSpan.Zero)), Now = _db.Time(now) },
            cancellationToken: ct));
        return row?.ToJob(_db);
    }

    public async Task<bool> ReleaseAsync(string jobId, string holder, CancellationToken ct = default)
    {
        var now = _db.Time(_time.GetUtcNow());
        await using var c = await _db.OpenWriterAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, next_attempt_at = @Now, claim_holder = NULL,
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

    /// <summary>A row as read; times are stored to the millisecond in UTC (as the other Tollgate tables) in the engine's own form.</summary>
    private sealed class JobRow
    {
        public string Id { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Subject { get; set; } = "";
        public string State { get; set; } = "";
        public long Attempts { get; set; }
        public long Max_Attempts { get; set; }
        public object Next_Attempt_At { get; set; } = null!;
        public string? Claim_Holder { get; set; }
        public object? Claimed_Until { get; set; }
        public string? Last_Error { get; set; }
        public object Created_At { get; set; } = null!;
        public object Updated_At { get; set; } = null!;

        public Job ToJob(SqlDatabase db) => new()
        {
            Id = Id,
            Kind = Kind,
            Subject = Subject,
            State = ParseState(State),
            Attempts = (int)Attempts,
            MaxAttempts = (int)Max_Attempts,
            NextAttemptAt = db.ReadTime(Next_Attempt_At),
            ClaimHolder = Claim_Holder,
            ClaimedUntil = db.ReadNullableTime(Claimed_Until),
            LastError = Last_Error,
            CreatedAt = db.ReadTime(Created_At),
            UpdatedAt = db.ReadTime(Updated_At),
        };
    }
}
