using System.Data;
using Dapper;
using Microsoft.Data.Sqlite;
using Tollgate.Platform;

namespace Tollgate.Storage.Sqlite.Platform;

/// <summary>
/// Platform API jobs and files in the embedded SQLite file (migration 0003). Status changes are compare-and-set in
/// their WHERE clause; adding a file reads the job and writes the file (and the finalization) in one write-locked
/// transaction, so it never races a concurrent finalize or expiry.
/// </summary>
internal sealed class SqlitePlatformStore(SqliteDatabase db) : IPlatformStore
{
    private const string JobColumns =
        "id, org_id, user_id, key_id, submission, flags, status, error_code, error_detail, created_at, updated_at, finalized_at, completed_at, expires_at, token_hash, token_used_at";

    private const string FileColumns =
        "job_id, idx, filename, file_extension, blob_key, duration_ms, status, api_calls_charged, error_code, error_detail, result_json, updated_at";

    private const string InsertFile =
        $"""
        INSERT INTO platform_files({FileColumns}) VALUES (@JobId, @Idx, @Filename, @FileExtension, @BlobKey, @DurationMs, @Status,
            @ApiCallsCharged, @ErrorCode, @ErrorDetail, @ResultJson, @UpdatedAt)
        """;

    public async Task CreateJobAsync(PlatformJob job, PlatformFile? firstFile, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await using var c = await db.OpenAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        await c.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO platform_jobs({JobColumns}) VALUES (@Id, @OrgId, @UserId, @KeyId, @Submission, @Flags, @Status, @ErrorCode, @ErrorDetail,
                @CreatedAt, @UpdatedAt, @FinalizedAt, @CompletedAt, @ExpiresAt, @TokenHash, @TokenUsedAt)
            """, JobParameters(job, null), tx, cancellationToken: ct));
        if (firstFile is not null)
        {
            await c.ExecuteAsync(new CommandDefinition(InsertFile, FileParameters(firstFile with { JobId = job.Id, Index = 0 }, null), tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
    }

    public async Task<PlatformJob?> GetJobAsync(string jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await GetAsync(c, null, jobId, ct);
    }

    public async Task<AddFileOutcome> AddFileAsync(string jobId, string orgId, PlatformFile file, bool finalize, int maxFiles, DateTimeOffset now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        await using var c = await db.OpenAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        var job = await GetAsync(c, tx, jobId, ct);
        if (job is null || job.OrgId != orgId)
        {
            return new AddFileOutcome(AddFileStatus.NotFound, null);
        }
        if (job.Submission != PlatformSubmission.File || job.Status != PlatformJobStatus.Pending || job.ExpiresAt <= now || job.Files.Count >= maxFiles)
        {
            return new AddFileOutcome(AddFileStatus.NotOpen, job);
        }
        var added = file with { JobId = jobId, Index = job.Files.Count == 0 ? 0 : job.Files[^1].Index + 1 };
        await c.ExecuteAsync(new CommandDefinition(InsertFile, FileParameters(added, null), tx, cancellationToken: ct));
        var at = StoreTime.ToText(now);
        if (finalize)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE platform_jobs SET status = 'processing', finalized_at = @at, expires_at = NULL, updated_at = @at WHERE id = @jobId",
                new { at, jobId }, tx, cancellationToken: ct));
        }
        else
        {
            await c.ExecuteAsync(new CommandDefinition("UPDATE platform_jobs SET updated_at = @at WHERE id = @jobId", new { at, jobId }, tx, cancellationToken: ct));
        }
        var stored = await GetAsync(c, tx, jobId, ct);
        await tx.CommitAsync(ct);
        return new AddFileOutcome(AddFileStatus.Added, stored);
    }

    public async Task<bool> UpdateJobAsync(PlatformJob job, PlatformJobStatus expected, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE platform_jobs SET status = @Status, error_code = @ErrorCode, error_detail = @ErrorDetail, updated_at = @UpdatedAt,
                finalized_at = @FinalizedAt, completed_at = @CompletedAt, expires_at = @ExpiresAt
            WHERE id = @Id AND status = @Expected
            """, JobParameters(job, expected), cancellationToken: ct)) == 1;
    }

    public async Task<bool> UpdateFileAsync(PlatformFile file, PlatformFileStatus expected, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE platform_files SET status = @Status, duration_ms = @DurationMs, api_calls_charged = @ApiCallsCharged, error_code = @ErrorCode,
                error_detail = @ErrorDetail, result_json = @ResultJson, updated_at = @UpdatedAt
            WHERE job_id = @JobId AND idx = @Idx AND status = @Expected
            """, FileParameters(file, expected), cancellationToken: ct)) == 1;
    }

    public async Task<bool> UseTokenAsync(string jobId, string tokenHash, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var at = StoreTime.ToText(now);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE platform_jobs SET token_used_at = @at, updated_at = @at
            WHERE id = @jobId AND submission = 'realtime' AND token_hash = @tokenHash AND token_used_at IS NULL
                AND status = 'pending' AND expires_at > @at
            """, new { jobId, tokenHash, at }, cancellationToken: ct)) == 1;
    }

    public async Task<IReadOnlyList<PlatformJob>> ListAsync(PlatformJobStatus status, DateTimeOffset? expiredBy = null, int limit = 100, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var c = await db.OpenAsync(ct);
        var ids = await c.QueryAsync<string>(new CommandDefinition(
            """
            SELECT id FROM platform_jobs WHERE status = @Status AND (@By IS NULL OR (expires_at IS NOT NULL AND expires_at <= @By))
            ORDER BY created_at, id LIMIT @limit
            """, new { Status = Wire(status), By = expiredBy is { } by ? StoreTime.ToText(by) : null, limit }, cancellationToken: ct));
        var jobs = new List<PlatformJob>();
        foreach (var id in ids)
        {
            if (await GetAsync(c, null, id, ct) is { } job)
            {
                jobs.Add(job);
            }
        }
        return jobs;
    }

    private static async Task<PlatformJob?> GetAsync(SqliteConnection c, SqliteTransaction? tx, string jobId, CancellationToken ct)
    {
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"SELECT {JobColumns} FROM platform_jobs WHERE id = @jobId", new { jobId }, tx, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }
        var files = await c.QueryAsync<FileRow>(new CommandDefinition(
            $"SELECT {FileColumns} FROM platform_files WHERE job_id = @jobId ORDER BY idx", new { jobId }, tx, cancellationToken: ct));
        return row.ToJob() with { Files = [.. files.Select(f => f.ToFile())] };
    }

    private static async Task<SqliteTransaction> BeginWriteAsync(SqliteConnection c, CancellationToken ct) =>
        (SqliteTransaction)await c.BeginTransactionAsync(IsolationLevel.Serializable, ct);

    private static object JobParameters(PlatformJob job, PlatformJobStatus? expected) => new
    {
        job.Id,
        job.OrgId,
        job.UserId,
        job.KeyId,
        Submission = job.Submission == PlatformSubmission.Realtime ? "realtime" : "file",
        Flags = (int)job.Flags,
        Status = Wire(job.Status),
        job.ErrorCode,
        job.ErrorDetail,
        CreatedAt = StoreTime.ToText(job.CreatedAt),
        UpdatedAt = StoreTime.ToText(job.UpdatedAt),
        FinalizedAt = Text(job.FinalizedAt),
        CompletedAt = Text(job.CompletedAt),
        ExpiresAt = Text(job.ExpiresAt),
        job.TokenHash,
        TokenUsedAt = Text(job.TokenUsedAt),
        Expected = expected is { } e ? Wire(e) : null,
    };

    private static object FileParameters(PlatformFile file, PlatformFileStatus? expected) => new
    {
        file.JobId,
        Idx = file.Index,
        file.Filename,
        file.FileExtension,
        file.BlobKey,
        file.DurationMs,
        Status = Wire(file.Status),
        file.ApiCallsCharged,
        file.ErrorCode,
        file.ErrorDetail,
        file.ResultJson,
        UpdatedAt = StoreTime.ToText(file.UpdatedAt),
        Expected = expected is { } e ? Wire(e) : null,
    };

    private static string? Text(DateTimeOffset? at) => at is { } t ? StoreTime.ToText(t) : null;

    private static string Wire(PlatformJobStatus status) => status switch
    {
        PlatformJobStatus.Pending => "pending",
        PlatformJobStatus.Processing => "processing",
        PlatformJobStatus.Completed => "completed",
        _ => "failed",
    };

    private static string Wire(PlatformFileStatus status) => Wire((PlatformJobStatus)(int)status);

    private static PlatformJobStatus ParseStatus(string text) => text switch
    {
        "pending" => PlatformJobStatus.Pending,
        "processing" => PlatformJobStatus.Processing,
        "completed" => PlatformJobStatus.Completed,
        _ => PlatformJobStatus.Failed,
    };

    private sealed record JobRow(string id, string org_id, string user_id, string key_id, string submission, long flags, string status,
        string? error_code, string? error_detail, string created_at, string updated_at, string? finalized_at, string? completed_at,
        string? expires_at, string? token_hash, string? token_used_at)
    {
        public PlatformJob ToJob() => new()
        {
            Id = id,
            OrgId = org_id,
            UserId = user_id,
            KeyId = key_id,
            Submission = submission == "realtime" ? PlatformSubmission.Realtime : PlatformSubmission.File,
            Flags = (PlatformFlags)flags,
            Status = ParseStatus(status),
            ErrorCode = error_code,
            ErrorDetail = error_detail,
            CreatedAt = StoreTime.Parse(created_at),
            UpdatedAt = StoreTime.Parse(updated_at),
            FinalizedAt = StoreTime.ParseNullable(finalized_at),
            CompletedAt = StoreTime.ParseNullable(completed_at),
            ExpiresAt = StoreTime.ParseNullable(expires_at),
            TokenHash = token_hash,
            TokenUsedAt = StoreTime.ParseNullable(token_used_at),
        };
    }

    private sealed record FileRow(string job_id, long idx, string? filename, string file_extension, string blob_key, long duration_ms, string status,
        long api_calls_charged, string? error_code, string? error_detail, string? result_json, string updated_at)
    {
        public PlatformFile ToFile() => new()
        {
            JobId = job_id,
            Index = (int)idx,
            Filename = filename,
            FileExtension = file_extension,
            BlobKey = blob_key,
            DurationMs = duration_ms,
            Status = (PlatformFileStatus)(int)ParseStatus(status),
            ApiCallsCharged = (int)api_calls_charged,
            ErrorCode = error_code,
            ErrorDetail = error_detail,
            ResultJson = result_json,
            UpdatedAt = StoreTime.Parse(updated_at),
        };
    }
}
