namespace Tollgate.Platform;

/// <summary>A Platform API job's lifecycle state (the wire's <c>status</c>).</summary>
public enum PlatformJobStatus
{
    /// <summary>A multi-file job still open for files, or a realtime job whose stream has not ended.</summary>
    Pending,

    /// <summary>Finalized: its files are being processed (or its stream is open).</summary>
    Processing,

    /// <summary>At least one file produced a result.</summary>
    Completed,

    /// <summary>No file produced a result, or the job expired before it was finalized.</summary>
    Failed,
}

/// <summary>One file's state within its job.</summary>
public enum PlatformFileStatus
{
    Pending,
    Processing,
    Completed,
    Failed,
}

/// <summary>How a job was submitted: audio files (single- or multi-file) or a realtime stream.</summary>
public enum PlatformSubmission
{
    File,
    Realtime,
}

/// <summary>
/// A Platform API job: who submitted it (the key's organization, user and key), what it asks for, where it is, and for
/// a realtime job the hash of its one-time stream token. <see cref="Files"/> is filled by reads, in upload order.
/// </summary>
public sealed record PlatformJob
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public required string UserId { get; init; }
    public required string KeyId { get; init; }
    public PlatformSubmission Submission { get; init; }
    public PlatformFlags Flags { get; init; }
    public PlatformJobStatus Status { get; init; }

    /// <summary>Why the job failed as a whole (<c>job_expired</c>, …); null otherwise.</summary>
    public string? ErrorCode { get; init; }
    public string? ErrorDetail { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When the job stopped taking input (the finalizing upload, or the stream's end).</summary>
    public DateTimeOffset? FinalizedAt { get; init; }

    /// <summary>When it became completed or failed.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>An open job expires at this time unless it is finalized (realtime: its URL expires).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Realtime: SHA-256 (hex) of the one-time token in its URL; the token itself is never stored.</summary>
    public string? TokenHash { get; init; }

    /// <summary>Realtime: when the token was used (it is good for one connection).</summary>
    public DateTimeOffset? TokenUsedAt { get; init; }

    public IReadOnlyList<PlatformFile> Files { get; init; } = [];
}

/// <summary>One file of a job: its stored audio (<see cref="BlobKey"/>), its probed duration, and its outcome.</summary>
public sealed record PlatformFile
{
    public required string JobId { get; init; }

    /// <summary>Position in upload order, from 0 (assigned by the store when a file is added).</summary>
    public int Index { get; init; }
    public string? Filename { get; init; }
    public required string FileExtension { get; init; }

    /// <summary>Where its audio is kept until the job is done (deleted afterwards).</summary>
    public required string BlobKey { get; init; }
    public long DurationMs { get; init; }
    public PlatformFileStatus Status { get; init; }

    /// <summary>API calls charged for it: 1 + one per flag once it completed; 0 before, or when it failed.</summary>
    public int ApiCallsCharged { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorDetail { get; init; }

    /// <summary>The result JSON once completed.</summary>
    public string? ResultJson { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>How <see cref="IPlatformStore.AddFileAsync"/> ended.</summary>
public enum AddFileStatus
{
    /// <summary>The file was added (and the job finalized, when asked).</summary>
    Added,

    /// <summary>No such job in that organization: nothing written.</summary>
    NotFound,

    /// <summary>The job takes no more files (finalized, realtime, failed, expired or full): nothing written.</summary>
    NotOpen,
}

/// <summary>The answer of <see cref="IPlatformStore.AddFileAsync"/>: the job as stored afterwards (with its files), when it exists in the organization.</summary>
public readonly record struct AddFileOutcome(AddFileStatus Status, PlatformJob? Job);

/// <summary>
/// Platform API jobs and their files (SQLite by default; PostgreSQL for many nodes). Status changes are compare-and-set
/// on the status the caller read, so a worker and an expiry sweep can never both move one job or file; adding a file
/// checks and writes in one transaction, so a file is never added to a job that another request has just finalized.
/// Times are kept to the millisecond.
/// </summary>
public interface IPlatformStore
{
    /// <summary>Stores a new job with its first file (null for a realtime job); the file's index is 0.</summary>
    Task CreateJobAsync(PlatformJob job, PlatformFile? firstFile, CancellationToken ct = default);

    /// <summary>The job with its files in upload order, or null.</summary>
    Task<PlatformJob?> GetJobAsync(string jobId, CancellationToken ct = default);

    /// <summary>
    /// Adds <paramref name="file"/> (its index becomes the job's next) to the job when it belongs to
    /// <paramref name="orgId"/>, is a file job, is <see cref="PlatformJobStatus.Pending"/>, expires after
    /// <paramref name="now"/> and holds fewer than <paramref name="maxFiles"/> files; with <paramref name="finalize"/>
    /// the job also becomes <see cref="PlatformJobStatus.Processing"/>, finalized at <paramref name="now"/>. All of it or nothing.
    /// </summary>
    Task<AddFileOutcome> AddFileAsync(string jobId, string orgId, PlatformFile file, bool finalize, int maxFiles, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Writes the job's status, error and times (not its files, not its token) if its status is still <paramref name="expected"/>.</summary>
    Task<bool> UpdateJobAsync(PlatformJob job, PlatformJobStatus expected, CancellationToken ct = default);

    /// <summary>Writes the file's status, charge, error and result if its status is still <paramref name="expected"/>.</summary>
    Task<bool> UpdateFileAsync(PlatformFile file, PlatformFileStatus expected, CancellationToken ct = default);

    /// <summary>
    /// Realtime: uses the job's one-time token, in one step: true (and <see cref="PlatformJob.TokenUsedAt"/> set) only
    /// when <paramref name="tokenHash"/> is the job's, unused, the job still pending and not expired at <paramref name="now"/>.
    /// </summary>
    Task<bool> UseTokenAsync(string jobId, string tokenHash, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Jobs in <paramref name="status"/> (with their files), oldest first; with <paramref name="expiredBy"/>, only those whose <see cref="PlatformJob.ExpiresAt"/> is at or before it.</summary>
    Task<IReadOnlyList<PlatformJob>> ListAsync(PlatformJobStatus status, DateTimeOffset? expiredBy = null, int limit = 100, CancellationToken ct = default);

    /// <summary>
    /// One page of an organization's jobs, newest first (<see cref="PlatformJob.CreatedAt"/> descending, then id
    /// descending), without their files: at most <paramref name="limit"/>, those after the job
    /// <paramref name="after"/> in that order when it is given (none when it names no job).
    /// </summary>
    Task<IReadOnlyList<PlatformJob>> PageByOrgAsync(string orgId, int limit, string? after, CancellationToken ct = default);
}
