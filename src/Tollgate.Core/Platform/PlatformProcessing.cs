using Tollgate.Audio;
using Tollgate.Blobs;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Platform;

/// <summary>
/// The background half of a Platform API batch job, run as a <c>platform</c> job (its subject the job id): each file
/// in upload order is analysed by the transcription model and one model per flag, through the same backends as the
/// Models API, and charged its audio time against each of those models' quotas — ledger rows keyed by job, file and
/// model, so a file is charged once however often a run is repeated. Each file's outcome is stored before the next
/// is taken, so a run cut short (a restart, kill -9) is simply run again and takes up at the first unfinished file.
/// A file that fails (undecodable, over the quota) fails alone; the job is completed when one file succeeded.
/// </summary>
internal sealed class PlatformProcessing(
    IPlatformStore store,
    IBlobStore blobs,
    IIdentityStore identity,
    AudioQuota quota,
    IUsageLedger ledger,
    IPlatformAnalyzer analyzer,
    IPlatformProcessingGate gate,
    TimeProvider time) : IJobHandler
{
    public const string JobKind = "platform";

    public string Kind => JobKind;

    /// <summary>The job id of the work of a finalized Platform job (one per job: enqueuing it again changes nothing).</summary>
    public static string JobId(string platformJobId) => "platform:" + platformJobId;

    public async Task<JobOutcome> RunAsync(Job job, CancellationToken ct)
    {
        var current = await store.GetJobAsync(job.Subject, ct);
        if (current is not { Status: PlatformJobStatus.Processing, Submission: PlatformSubmission.File })
        {
            return JobOutcome.Done;
        }
        await gate.WaitAsync(current, ct);
        var key = await identity.GetKeyAsync(current.KeyId, ct);
        foreach (var file in current.Files)
        {
            if (file.Status is PlatformFileStatus.Completed or PlatformFileStatus.Failed)
            {
                continue;
            }
            ct.ThrowIfCancellationRequested();
            var processed = await ProcessAsync(current, key, file, ct);
            if (processed is null)
            {
                return JobOutcome.RetryLater("A model's backend is unavailable right now.");
            }
            await store.UpdateFileAsync(processed, file.Status, ct);
        }
        await FinishAsync(job.Subject, ct);
        return JobOutcome.Done;
    }

    public async Task FailedAsync(Job job, string reason, CancellationToken ct)
    {
        var current = await store.GetJobAsync(job.Subject, ct);
        if (current is not { Status: PlatformJobStatus.Processing })
        {
            return;
        }
        var now = Timestamps.Now(time);
        foreach (var file in current.Files.Where(f => f.Status is PlatformFileStatus.Pending or PlatformFileStatus.Processing))
        {
            await store.UpdateFileAsync(Failed(file, "processing_failed", "Processing this file failed repeatedly; it is not charged.", now), file.Status, ct);
        }
        await FinishAsync(job.Subject, ct);
    }

    /// <summary>Once every file has an outcome: completed when one succeeded, else failed; the stored audio is deleted.</summary>
    private async Task FinishAsync(string jobId, CancellationToken ct)
    {
        var current = await store.GetJobAsync(jobId, ct);
        if (current is not { Status: PlatformJobStatus.Processing }
            || current.Files.Any(f => f.Status is PlatformFileStatus.Pending or PlatformFileStatus.Processing))
        {
            return;
        }
        var now = Timestamps.Now(time);
        var succeeded = current.Files.Any(f => f.Status == PlatformFileStatus.Completed);
        var finished = current with
        {
            Status = succeeded ? PlatformJobStatus.Completed : PlatformJobStatus.Failed,
            ErrorCode = succeeded ? null : "all_files_failed",
            ErrorDetail = succeeded ? null : "No file of this job could be processed; see each file's error.",
            CompletedAt = now,
            UpdatedAt = now,
        };
        if (await store.UpdateJobAsync(finished, PlatformJobStatus.Processing, ct))
        {
            await PlatformBlobs.DeleteAsync(blobs, current, ct);
        }
    }

    private PlatformFile Failed(PlatformFile file, string code, string detail, DateTimeOffset? at = null) => file with
    {
        Status = PlatformFileStatus.Failed,
        ApiCallsCharged = 0,
        ErrorCode = code,
        ErrorDetail = detail,
        ResultJson = null,
        UpdatedAt = at ?? Timestamps.Now(time),
    };

    /// <summary>One file, analysed and charged; null when a backend is unavailable (the run is retried later, nothing charged).</summary>
    private async Task<PlatformFile?> ProcessAsync(PlatformJob job, ApiKeyRecord? key, PlatformFile file, CancellationToken ct)
    {
        if (key is null)
        {
            return Failed(file, "model_not_permitted", "The API key that submitted this job no longer exists.");
        }
        var principal = key.Principal;
        await using var audio = await blobs.OpenReadAsync(file.BlobKey, ct);
        if (audio is null)
        {
            return Failed(file, "input_missing", "This file's audio is no longer on the server.");
        }
        var probe = AudioProbe.Probe(audio);
        if (!probe.Success)
        {
            return Failed(file, "undecodable_audio", $"The audio could not be decoded as {file.FileExtension}.");
        }
        var info = probe.Info;
        var models = PlatformModels.BatchModels(job.Flags);
        var held = new List<(QuotaReservation Reservation, string RequestId)>();
        try
        {
            foreach (var model in models)
            {
                if (!principal.TryGetLimits(model, out var limits))
                {
                    return Failed(file, "model_not_permitted", $"The API key is not entitled to {model}, which this job needs.");
                }
                var requestId = ChargeId(job.Id, file.Index, model);
                var scope = quota.Scope(principal, model, limits);
                var grant = await quota.ReserveAsync(QuotaReservation.Begin(scope), info.DurationMs, ReserveMode.Exact, ct);
                if (grant.GrantedMs == info.DurationMs)
                {
                    held.Add((grant.Reservation, requestId));
                }
                else if (!await AlreadyChargedAsync(scope, requestId, ct))
                {
                    return Failed(file, "quota_exceeded", FormattableString.Invariant(
                        $"Monthly audio quota for {model} exceeded: this file is {info.DurationMs} ms of audio but only {grant.RemainingMs} ms remain; it resets at {scope.Period.End.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}."));
                }
            }

            var stt = await AnalyzeAsync(PlatformModels.Transcription, audio, info, file, new Dictionary<string, string> { ["language"] = "en" }, ct);
            if (!stt.Succeeded)
            {
                return stt.Transient ? null : Failed(file, stt.ErrorCode!, stt.ErrorDetail!);
            }
            var answers = new Dictionary<PlatformFlags, System.Text.Json.Nodes.JsonObject>();
            foreach (var analysis in PlatformModels.For(job.Flags))
            {
                var answer = await AnalyzeAsync(analysis.Model, audio, info, file, new Dictionary<string, string>(), ct);
                if (!answer.Succeeded)
                {
                    return answer.Transient ? null : Failed(file, answer.ErrorCode!, answer.ErrorDetail!);
                }
                answers[analysis.Flag] = answer.Body!;
            }
            var result = PlatformResults.Compose(job.Flags, stt.Body!,
                answers.GetValueOrDefault(PlatformFlags.EmotionAnnotation),
                answers.GetValueOrDefault(PlatformFlags.Demographics),
                answers.GetValueOrDefault(PlatformFlags.DeepfakeDetection));

            // The charges are durable before the file reads completed; a run repeated after a crash here writes none again.
            for (var i = 0; i < held.Count; i++)
            {
                var (reservation, requestId) = held[i];
                held[i] = default;
                await quota.CommitAsync(reservation, info.DurationMs, requestId, principal, CancellationToken.None);
            }
            return file with
            {
                Status = PlatformFileStatus.Completed,
                DurationMs = info.DurationMs,
                ApiCallsCharged = PlatformModels.ApiCalls(job.Flags),
                ErrorCode = null,
                ErrorDetail = null,
                ResultJson = result.ToJsonString(),
                UpdatedAt = Timestamps.Now(time),
            };
        }
        finally
        {
            foreach (var (reservation, requestId) in held)
            {
                if (requestId is not null)
                {
                    await quota.ReleaseAsync(reservation, CancellationToken.None);
                }
            }
        }
    }

    private async Task<AnalysisResult> AnalyzeAsync(string model, Stream audio, AudioInfo info, PlatformFile file, Dictionary<string, string> fields, CancellationToken ct)
    {
        audio.Seek(0, SeekOrigin.Begin);
        return await analyzer.AnalyzeAsync(new AnalysisRequest(model, audio, info, file.Filename ?? "audio." + file.FileExtension, fields), ct);
    }

    /// <summary>The ledger id of one file's charge on one model.</summary>
    public static string ChargeId(string jobId, int index, string model) => FormattableString.Invariant($"platform:{jobId}:{index}:{model}");

    /// <summary>A repeated run whose charge was recorded before the crash finds it here rather than in what remains.</summary>
    private async Task<bool> AlreadyChargedAsync(QuotaScope scope, string requestId, CancellationToken ct)
    {
        var charges = await ledger.ChargesAsync(scope.OrgId, scope.Period, ct);
        return charges.Any(c => c.RequestId == requestId);
    }
}

/// <summary>Where a Platform job's audio is kept: <c>platform/{jobId}/{fileId}</c> in the blob store, until the job is done or expires.</summary>
internal static class PlatformBlobs
{
    public static string NewKey(string jobId) => $"platform/{jobId}/{Ids.New("file")}";

    public static async Task DeleteAsync(IBlobStore blobs, PlatformJob job, CancellationToken ct)
    {
        foreach (var file in job.Files.Where(f => f.BlobKey.Length > 0))
        {
            await blobs.DeleteAsync(file.BlobKey, ct);
        }
    }
}
