using System.Security.Cryptography;
using Tollgate.Blobs;
using Tollgate.Identity;
using Tollgate.Jobs;

namespace Tollgate.Platform;

/// <summary>An upload that passed every check: its audio (a readable stream, positioned anywhere), its probed duration and what the client said about it.</summary>
internal sealed record AcceptedFile(Stream Audio, long DurationMs, string FileExtension, string? Filename);

/// <summary>How adding a file to an existing job ended.</summary>
internal enum AddOutcome
{
    Added,
    NotFound,
    NotOpen,
}

/// <summary>
/// What Platform API callers ask for, once the server has read and checked their request: new jobs (single-file, the
/// first file of a multi-file job, realtime), more files for an open job, and job reads. Every job is stored before it
/// is acknowledged and its audio before the job names it; a finalized job is handed to the job engine.
/// </summary>
internal sealed class PlatformRequests(IPlatformStore store, IBlobStore blobs, JobQueue jobs, PlatformOptions options, TimeSpan streamLease, TimeProvider time)
{
    public PlatformOptions Options => options;

    /// <summary>A new file job with its first file: processing at once when <paramref name="finalize"/>, else pending (multi-file) until it expires.</summary>
    public async Task<PlatformJob> CreateFileJobAsync(Principal caller, PlatformFlags flags, AcceptedFile file, bool finalize, CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString();
        var now = Timestamps.Now(time);
        var stored = await StoreAudioAsync(id, file, now, ct);
        var job = new PlatformJob
        {
            Id = id,
            OrgId = caller.OrgId,
            UserId = caller.UserId,
            KeyId = caller.KeyId,
            Submission = PlatformSubmission.File,
            Flags = flags,
            Status = finalize ? PlatformJobStatus.Processing : PlatformJobStatus.Pending,
            CreatedAt = now,
            UpdatedAt = now,
            FinalizedAt = finalize ? now : null,
            ExpiresAt = finalize ? null : now + options.JobExpiry,
        };
        try
        {
            await store.CreateJobAsync(job, stored, CancellationToken.None);
        }
        catch
        {
            await blobs.DeleteAsync(stored.BlobKey, CancellationToken.None);
            throw;
        }
        if (finalize)
        {
            await EnqueueAsync(id);
        }
        return job with { Files = [stored] };
    }

    /// <summary>Adds a file to an open job of the caller's organization (404 / 409 change nothing: the audio stored for it is deleted again).</summary>
    public async Task<(AddOutcome Outcome, PlatformJob? Job, PlatformFile? File)> AddFileAsync(Principal caller, string jobId, AcceptedFile file, bool finalize, CancellationToken ct)
    {
        var now = Timestamps.Now(time);
        var stored = await StoreAudioAsync(jobId, file, now, ct);
        AddFileOutcome added;
        try
        {
            added = await store.AddFileAsync(jobId, caller.OrgId, stored, finalize, options.MaxFilesPerJob, now, CancellationToken.None);
        }
        catch
        {
            await blobs.DeleteAsync(stored.BlobKey, CancellationToken.None);
            throw;
        }
        if (added.Status != AddFileStatus.Added)
        {
            await blobs.DeleteAsync(stored.BlobKey, CancellationToken.None);
            return (added.Status == AddFileStatus.NotFound ? AddOutcome.NotFound : AddOutcome.NotOpen, added.Job, null);
        }
        if (finalize)
        {
            await EnqueueAsync(jobId);
        }
        var job = added.Job!;
        return (AddOutcome.Added, job, job.Files.First(f => f.BlobKey == stored.BlobKey));
    }

    /// <summary>A realtime job, pending until its stream ends; the answer carries the one-time token (only its hash is stored).</summary>
    public async Task<(PlatformJob Job, string Token)> CreateRealtimeJobAsync(Principal caller, PlatformFlags flags, CancellationToken ct)
    {
        var token = Ids.New("rt") + Ids.New("t")[2..];
        var now = Timestamps.Now(time);
        var job = new PlatformJob
        {
            Id = Guid.NewGuid().ToString(),
            OrgId = caller.OrgId,
            UserId = caller.UserId,
            KeyId = caller.KeyId,
            Submission = PlatformSubmission.Realtime,
            Flags = flags,
            Status = PlatformJobStatus.Pending,
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = now + options.RealtimeUrlLifetime,
            TokenHash = HashToken(token),
        };
        var stream = new PlatformFile
        {
            JobId = job.Id,
            Filename = RealtimeFileName,
            FileExtension = RealtimeFormat,
            BlobKey = "",
            Status = PlatformFileStatus.Pending,
            UpdatedAt = now,
        };
        await store.CreateJobAsync(job, stream, ct);
        return (job with { Files = [stream] }, token);
    }

    /// <summary>A realtime job's one "file": its stream (the audio is not kept).</summary>
    public const string RealtimeFileName = "realtime-stream";

    public const string RealtimeFormat = "pcm_s16le";

    /// <summary>
    /// How long an open stream's job stays this node's once the node stops renewing it (<c>Tollgate:Leases:Ttl</c>):
    /// while the stream is open its job's <see cref="PlatformJob.ExpiresAt"/> is that lease, renewed every third of it
    /// (<see cref="RenewStreamAsync"/>); once it has passed, the node is taken for dead and any node marks the job
    /// <c>stream_interrupted</c>.
    /// </summary>
    public TimeSpan StreamLease => streamLease;

    /// <summary>Spends the job's token for its stream and marks it processing, held by this node for <see cref="StreamLease"/>; null when someone else spent it first.</summary>
    public async Task<PlatformJob?> StartStreamAsync(PlatformJob job, string token, CancellationToken ct)
    {
        var now = Timestamps.Now(time);
        if (!await store.UseTokenAsync(job.Id, HashToken(token), now, ct))
        {
            return null;
        }
        var open = job with { Status = PlatformJobStatus.Processing, ExpiresAt = now + streamLease, UpdatedAt = now, FinalizedAt = null };
        await store.UpdateJobAsync(open, PlatformJobStatus.Pending, ct);
        return open;
    }

    /// <summary>The stream of <paramref name="open"/> is still served here: its lease runs another <see cref="StreamLease"/> from now (false when the job is no longer processing).</summary>
    public Task<bool> RenewStreamAsync(PlatformJob open, CancellationToken ct)
    {
        var now = Timestamps.Now(time);
        return store.UpdateJobAsync(open with { ExpiresAt = now + streamLease, UpdatedAt = now }, PlatformJobStatus.Processing, ct);
    }

    /// <summary>
    /// Fails every realtime job whose stream's node stopped renewing it (its lease, <see cref="PlatformJob.ExpiresAt"/>,
    /// has passed; a job without one is from before streams had leases): that node died or lost the store with the
    /// stream open. A stream another live node serves is never touched. Returns how many.
    /// </summary>
    public async Task<int> InterruptAbandonedStreamsAsync(bool includeUnleased, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var candidates = includeUnleased
            ? (await store.ListAsync(PlatformJobStatus.Processing, null, 10_000, ct)).Where(j => j.ExpiresAt is null || j.ExpiresAt <= now)
            : await store.ListAsync(PlatformJobStatus.Processing, now, 1000, ct);
        var count = 0;
        foreach (var stream in candidates.Where(j => j.Submission == PlatformSubmission.Realtime))
        {
            // Its stream died with its node (the audio it had was charged, if its end was reached).
            var stamp = Timestamps.Now(time);
            if (await store.UpdateJobAsync(stream with
                {
                    Status = PlatformJobStatus.Failed,
                    ErrorCode = "stream_interrupted",
                    ErrorDetail = "The server stopped while this job's stream was open.",
                    ExpiresAt = null,
                    CompletedAt = stamp,
                    UpdatedAt = stamp,
                }, PlatformJobStatus.Processing, ct))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>
    /// The stream has ended: its result (the utterances the client was sent) and its duration become the job's one file,
    /// and the job is completed — or failed when the stream failed before any audio was accepted.
    /// </summary>
    public async Task FinishStreamAsync(string jobId, long acceptedMs, System.Text.Json.Nodes.JsonObject result, (string Code, string Detail)? error, CancellationToken ct)
    {
        var job = await store.GetJobAsync(jobId, ct);
        if (job is not { Status: PlatformJobStatus.Processing } || job.Files.Count == 0)
        {
            return;
        }
        var now = Timestamps.Now(time);
        var failed = error is not null && acceptedMs == 0;
        var file = job.Files[0];
        await store.UpdateFileAsync(file with
        {
            Status = failed ? PlatformFileStatus.Failed : PlatformFileStatus.Completed,
            DurationMs = acceptedMs,
            ApiCallsCharged = failed ? 0 : PlatformModels.ApiCalls(job.Flags),
            ErrorCode = error?.Code,
            ErrorDetail = error?.Detail,
            ResultJson = failed ? null : result.ToJsonString(),
            UpdatedAt = now,
        }, file.Status, ct);
        await store.UpdateJobAsync(job with
        {
            Status = failed ? PlatformJobStatus.Failed : PlatformJobStatus.Completed,
            ErrorCode = failed ? error!.Value.Code : null,
            ErrorDetail = failed ? error!.Value.Detail : null,
            FinalizedAt = now,
            CompletedAt = now,
            UpdatedAt = now,
        }, PlatformJobStatus.Processing, ct);
    }

    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    /// <summary>The job if it belongs to <paramref name="orgId"/> (another organization's reads as none); an open job past its time is expired first.</summary>
    public async Task<PlatformJob?> GetAsync(string jobId, string orgId, CancellationToken ct)
    {
        var job = await store.GetJobAsync(jobId, ct);
        if (job is null || job.OrgId != orgId)
        {
            return null;
        }
        if (job.Status == PlatformJobStatus.Pending && job.ExpiresAt <= time.GetUtcNow())
        {
            await ExpireAsync(job, ct);
            job = await store.GetJobAsync(jobId, ct);
        }
        return job;
    }

    /// <summary>Fails a job that was never finalized (or a realtime job whose URL was never used) and deletes its audio.</summary>
    public async Task<bool> ExpireAsync(PlatformJob job, CancellationToken ct)
    {
        var now = Timestamps.Now(time);
        var realtime = job.Submission == PlatformSubmission.Realtime;
        var expired = job with
        {
            Status = PlatformJobStatus.Failed,
            ErrorCode = "job_expired",
            ErrorDetail = realtime
                ? "The realtime URL was never used before it expired."
                : "The job was never finalized and expired; its files were deleted.",
            UpdatedAt = now,
            CompletedAt = now,
        };
        if (!await store.UpdateJobAsync(expired, PlatformJobStatus.Pending, ct))
        {
            return false;
        }
        await PlatformBlobs.DeleteAsync(blobs, job, ct);
        return true;
    }

    /// <summary>Expires every open job whose time has passed, and fails the streams whose node stopped renewing them; returns how many.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken ct)
    {
        var count = await InterruptAbandonedStreamsAsync(includeUnleased: false, ct);
        foreach (var job in await store.ListAsync(PlatformJobStatus.Pending, time.GetUtcNow(), 1000, ct))
        {
            if (await ExpireAsync(job, ct))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Enqueues (idempotently) the work of every finalized job not yet done: those a crash caught between storing and enqueuing.</summary>
    public async Task<int> EnqueuePendingAsync(CancellationToken ct)
    {
        // Only streams whose node stopped renewing them: with several nodes, a starting node leaves the others' alone.
        await InterruptAbandonedStreamsAsync(includeUnleased: true, ct);
        var processing = await store.ListAsync(PlatformJobStatus.Processing, null, 10_000, ct);
        var count = 0;
        foreach (var job in processing.Where(j => j.Submission == PlatformSubmission.File))
        {
            await jobs.EnqueueAsync(PlatformProcessing.JobId(job.Id), PlatformProcessing.JobKind, job.Id, ct);
            count++;
        }
        return count;
    }

    private Task EnqueueAsync(string jobId) =>
        jobs.EnqueueAsync(PlatformProcessing.JobId(jobId), PlatformProcessing.JobKind, jobId, CancellationToken.None);

    private async Task<PlatformFile> StoreAudioAsync(string jobId, AcceptedFile file, DateTimeOffset now, CancellationToken ct)
    {
        var key = PlatformBlobs.NewKey(jobId);
        file.Audio.Seek(0, SeekOrigin.Begin);
        await blobs.PutAsync(key, file.Audio, ct);
        return new PlatformFile
        {
            JobId = jobId,
            Filename = file.Filename,
            FileExtension = file.FileExtension,
            BlobKey = key,
            DurationMs = file.DurationMs,
            Status = PlatformFileStatus.Pending,
            UpdatedAt = now,
        };
    }
}
