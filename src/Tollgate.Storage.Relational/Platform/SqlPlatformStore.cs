using System.Data.Common;
using Dapper;
using Tollgate.Platform;

namespace Tollgate.Storage.Relational.Platform;

/// <summary>
/// Platform API jobs and their files (tables <c>platform_jobs</c>, <c>platform_files</c>). Status changes are
/// compare-and-set in their WHERE clause. Adding a file runs in a transaction serialized with every other write to the
/// same job (<see cref="SqlDatabase.BeginSerializedAsync"/>, scope <c>platform-job:{id}</c>), so concurrent uploads
/// count and number the job's files one after another; its change to the job row is itself conditional on the job
/// still being pending, so an expiry or failure written meanwhile by a compare-and-set outside that scope (which
/// PostgreSQL lets run alongside) is never overwritten: the upload then adds nothing.
/// </summary>
internal sealed class SqlPlatformStore : IPlatformStore
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

    private readonly SqlDatabase _db;

    public SqlPlatformStore(SqlDatabase db)
    {
        _db = db;
    }

    public async Task CreateJobAsync(PlatformJob job, PlatformFile? firstFile, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await using var c = await _db.OpenConnectionAsync(ct);
        await using var tx = await _db.BeginSerializedAsync(c, JobScope(job.Id), ct);
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
        await using var c = await _db.OpenConnectionAsync(ct);
        return await GetAsync(c, null, jobId, ct);
    }

    public async Task<AddFileOutcome> AddFileAsync(string jobId, string orgId, PlatformFile file, bool finalize, int maxFiles, DateTimeOffset now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        await using var c = await _db.OpenConnectionAsync(ct);
        await using var tx = await _db.BeginSerializedAsync(c, JobScope(jobId), ct);
        var job = await GetAsync(c, tx, jobId, ct);
        if (job is null || job.OrgId != orgId)
        {
            return new AddFileOutcome(AddFileStatus.NotFound, null);
        }
        if (job.Submission != PlatformSubmission.File || job.Status != PlatformJobStatus.Pending || job.ExpiresAt <= now || job.Files.Count >= maxFiles)
        {
            return new AddFileOutcome(AddFileStatus.NotOpen, job);
        }
        // The job row first, and only while it is still pending: in PostgreSQL this waits for (and then sees) a
        // concurrent compare-and-set of the job, and keeps the next one waiting until this transaction ends.
        var at = _db.Time(now);
        var touched = await c.ExecuteAsync(new CommandDefinition(
            finalize
                ? "UPDATE platform_jobs SET status = 'processing', finalized_at = @at, expires_at = NULL, updated_at = @at WHERE id = @jobId AND status = 'pending'"
                : "UPDATE platform_jobs SET updated_at = @at WHERE id = @jobId AND status = 'pending'",
            new { at, jobId }, tx, cancellationToken: ct));
        if (touched != 1)
        {
            await tx.RollbackAsync(ct);
            return new AddFileOutcome(AddFileStatus.NotOpen, await GetAsync(c, null, jobId, ct));
        }
        var added = file with { JobId = jobId, Index = job.Files.Count == 0 ? 0 : job.Files[^1].Index + 1 };
        await c.ExecuteAsync(new CommandDefinition(InsertFile, FileParameters(added, null), tx, cancellationToken: ct));
        var stored = await GetAsync(c, tx, jobId, ct);
        await tx.CommitAsync(ct);
        return new AddFileOutcome(AddFileStatus.Added, stored);
    }

    public async Task<bool> UpdateJobAsync(PlatformJob job, PlatformJobStatus expected, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await using var c = await _db.OpenConnectionAsync(ct);
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
        await using var c = await _db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE platform_files SET status = @Status, duration_ms = @DurationMs, api_calls_charged = @ApiCallsCharged, error_code = @ErrorCode,
                error_detail = @ErrorDetail, result_json = @ResultJson, updated_at = @UpdatedAt
            WHERE job_id = @JobId AND idx = @Idx AND status = @Expected
            """, FileParameters(file, expected), cancellationToken: ct)) == 1;
    }

    public async Task<bool> UseTokenAsync(string jobId, string tokenHash, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE platform_jobs SET token_used_at = @at, updated_at = @at
            WHERE id = @jobId AND submission = 'realtime' AND token_hash = @tokenHash AND token_used_at IS NULL
                AND status = 'pending' AND expires_at > @at
            """, new { jobId, tokenHash, at = _db.Time(now) }, cancellationToken: ct)) == 1;
    }

    public async Task<IReadOnlyList<PlatformJob>> ListAsync(PlatformJobStatus status, DateTimeOffset? expiredBy = null, int limit = 100, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var c = await _db.OpenConnectionAsync(ct);
        // Two statements rather than "@By IS NULL OR …": PostgreSQL cannot type a NULL time parameter on its own.
        var ids = await c.QueryAsync<string>(new CommandDefinition(
            expiredBy is null
                ? "SELECT id FROM platform_jobs WHERE status = @Status ORDER BY created_at, id LIMIT @limit"
                : "SELECT id FROM platform_jobs WHERE status = @Status AND expires_at IS NOT NULL AND expires_at <= @By ORDER BY created_at, id LIMIT @limit",
            new { Status = Wire(status), By = expiredBy is { } by ? _db.Time(by) : null, limit }, cancellationToken: ct));
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

    public async Task<IReadOnlyList<PlatformJob>> PageByOrgAsync(string orgId, int limit, string? after, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var c = await _db.OpenConnectionAsync(ct);
        // A row-value comparison with the cursor's (created_at, id): a range on the (org_id, created_at, id) index. An
        // unknown cursor compares with NULL: no rows.
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition(
            after is null
                ? $"SELECT {JobColumns} FROM platform_jobs WHERE org_id = @orgId ORDER BY created_at DESC, id DESC LIMIT @limit"
                : $"""
                  SELECT {JobColumns} FROM platform_jobs WHERE org_id = @orgId
                      AND (created_at, id) < (SELECT created_at, id FROM platform_jobs WHERE id = @after)
                  ORDER BY created_at DESC, id DESC LIMIT @limit
                  """,
            new { orgId, after, limit }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToJob(_db))];
    }

    /// <summary>What every transaction that writes one job (and its files) serializes on.</summary>
    private static string JobScope(string jobId) => "platform-job:" + jobId;

    private async Task<PlatformJob?> GetAsync(DbConnection c, DbTransaction? tx, string jobId, CancellationToken ct)
    {
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"SELECT {JobColumns} FROM platform_jobs WHERE id = @jobId", new { jobId }, tx, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }
        var files = await c.QueryAsync<FileRow>(new CommandDefinition(
            $"SELECT {FileColumns} FROM platform_files WHERE job_id = @jobId ORDER BY idx", new { jobId }, tx, cancellationToken: ct));
        return row.ToJob(_db) with { Files = [.. files.Select(f => f.ToFile(_db))] };
    }

    private DynamicParameters JobParameters(PlatformJob job, PlatformJobStatus? expected)
    {
        var p = new DynamicParameters();
        p.Add("Id", job.Id);
        p.Add("OrgId", job.OrgId);
        p.Add("UserId", job.UserId);
        p.Add("KeyId", job.KeyId);
        p.Add("Submission", job.Submission == PlatformSubmission.Realtime ? "realtime" : "file");
        p.Add("Flags", (long)job.Flags);
        p.Add("Status", Wire(job.Status));
        p.Add("ErrorCode", job.ErrorCode);
        p.Add("ErrorDetail", job.ErrorDetail);
        p.Add("CreatedAt", _db.Time(job.CreatedAt));
        p.Add("UpdatedAt", _db.Time(job.UpdatedAt));
        p.Add("FinalizedAt", NullableTime(job.FinalizedAt));
        p.Add("CompletedAt", NullableTime(job.CompletedAt));
        p.Add("ExpiresAt", NullableTime(job.ExpiresAt));
        p.Add("TokenHash", job.TokenHash);
        p.Add("TokenUsedAt", NullableTime(job.TokenUsedAt));
        if (expected is { } e)
        {
            p.Add("Expected", Wire(e));
        }
        return p;
    }

    private DynamicParameters FileParameters(PlatformFile file, PlatformFileStatus? expected)
    {
        var p = new DynamicParameters();
        p.Add("JobId", file.JobId);
        p.Add("Idx", (long)file.Index);
        p.Add("Filename", file.Filename);
        p.Add("FileExtension", file.FileExtension);
        p.Add("BlobKey", file.BlobKey);
        p.Add("DurationMs", file.DurationMs);
        p.Add("Status", Wire(file.Status));
        p.Add("ApiCallsCharged", (long)file.ApiCallsCharged);
        p.Add("ErrorCode", file.ErrorCode);
        p.Add("ErrorDetail", file.ErrorDetail);
        p.Add("ResultJson", file.ResultJson);
        p.Add("UpdatedAt", _db.Time(file.UpdatedAt));
        if (expected is { } e)
        {
            p.Add("Expected", Wire(e));
        }
        return p;
    }

    private object? NullableTime(DateTimeOffset? at) => at is { } t ? _db.Time(t) : null;

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

    private sealed class JobRow
    {
        public string Id { get; set; } = "";
        public string Org_Id { get; set; } = "";
        public string User_Id { get; set; } = "";
        public string Key_Id { get; set; } = "";
        public string Submission { get; set; } = "";
        public long Flags { get; set; }
        public string Status { get; set; } = "";
        public string? Error_Code { get; set; }
        public string? Error_Detail { get; set; }
        public object Created_At { get; set; } = null!;
        public object Updated_At { get; set; } = null!;
        public object? Finalized_At { get; set; }
        public object? Completed_At { get; set; }
        public object? Expires_At { get; set; }
        public string? Token_Hash { get; set; }
        public object? Token_Used_At { get; set; }

        public PlatformJob ToJob(SqlDatabase db) => new()
        {
            Id = Id,
            OrgId = Org_Id,
            UserId = User_Id,
            KeyId = Key_Id,
            Submission = Submission == "realtime" ? PlatformSubmission.Realtime : PlatformSubmission.File,
            Flags = (PlatformFlags)Flags,
            Status = ParseStatus(Status),
            ErrorCode = Error_Code,
            ErrorDetail = Error_Detail,
            CreatedAt = db.ReadTime(Created_At),
            UpdatedAt = db.ReadTime(Updated_At),
            FinalizedAt = db.ReadNullableTime(Finalized_At),
            CompletedAt = db.ReadNullableTime(Completed_At),
            ExpiresAt = db.ReadNullableTime(Expires_At),
            TokenHash = Token_Hash,
            TokenUsedAt = db.ReadNullableTime(Token_Used_At),
        };
    }

    private sealed class FileRow
    {
        public string Job_Id { get; set; } = "";
        public long Idx { get; set; }
        public string? Filename { get; set; }
        public string File_Extension { get; set; } = "";
        public string Blob_Key { get; set; } = "";
        public long Duration_Ms { get; set; }
        public string Status { get; set; } = "";
        public long Api_Calls_Charged { get; set; }
        public string? Error_Code { get; set; }
        public string? Error_Detail { get; set; }
        public string? Result_Json { get; set; }
        public object Updated_At { get; set; } = null!;

        public PlatformFile ToFile(SqlDatabase db) => new()
        {
            JobId = Job_Id,
            Index = (int)Idx,
            Filename = Filename,
            FileExtension = File_Extension,
            BlobKey = Blob_Key,
            DurationMs = Duration_Ms,
            Status = (PlatformFileStatus)(int)ParseStatus(Status),
            ApiCallsCharged = (int)Api_Calls_Charged,
            ErrorCode = Error_Code,
            ErrorDetail = Error_Detail,
            ResultJson = Result_Json,
            UpdatedAt = db.ReadTime(Updated_At),
        };
    }
}
