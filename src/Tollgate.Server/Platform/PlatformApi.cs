using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Tollgate.Audio;
using Tollgate.Identity;
using Tollgate.Metering;
using Tollgate.Models;
using Tollgate.Platform;
using Tollgate.Server.Admission;
using Tollgate.Server.Hosting;
using Tollgate.Server.Http;
using Tollgate.Server.Models;

namespace Tollgate.Server.Platform;

/// <summary>
/// The Platform API (<c>accountuuid</c> + <c>apikey</c> headers): <c>POST /api_service</c> for the three submission
/// patterns and <c>GET /api_service/job_status/{job_id}</c>. Admission authenticates the caller (and checks the key
/// belongs to <c>accountuuid</c>) and applies the surface's rate windows before the body is read; which models a job
/// uses follows from its flags (<see cref="PlatformModels"/>), so their entitlements and quotas are checked here, once
/// the flags and the file's duration are known, with the same refusals admission gives. A refused request stores nothing.
/// </summary>
internal static class PlatformApi
{
    public static IEndpointRouteBuilder MapPlatformApi(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<PlatformOptions>>().Value;
        var api = app.MapGroup("/api_service").WithTags("Platform");
        api.MapPost("", (HttpContext context, PlatformEndpoint endpoint) => endpoint.SubmitAsync(context))
            .WithName("Platform_Submit")
            .WithSummary("Submit a job (JSON audio_base64 or multipart file; at most 5 MB of audio), add a file to a multi-file job (job_id, finalize_job), or open a realtime job (submission_type realtime_websocket).")
            .Accepts<JsonObject>("application/json", "multipart/form-data")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest)
            .Produces<ErrorBody>(StatusCodes.Status401Unauthorized)
            .Produces<ErrorBody>(StatusCodes.Status403Forbidden)
            .Produces<ErrorBody>(StatusCodes.Status404NotFound)
            .Produces<ErrorBody>(StatusCodes.Status409Conflict)
            .Produces<ErrorBody>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorBody>(StatusCodes.Status422UnprocessableEntity)
            .Produces<ErrorBody>(StatusCodes.Status429TooManyRequests)
            .DisableAntiforgery()
            .RequireAdmission(new AdmissionMetadata(Surface.Platform, maxBodyBytes: Math.Max(options.MaxJsonBodyBytes, options.MaxMultipartBodyBytes)));
        api.MapGet("/job_status/{job_id}", (HttpContext context, string job_id, PlatformEndpoint endpoint) => endpoint.StatusAsync(context, job_id))
            .WithName("Platform_JobStatus")
            .WithSummary("A job's status, per-file results and charges; poll no more often than retry_after_seconds says (3 s).")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces<ErrorBody>(StatusCodes.Status401Unauthorized)
            .Produces<ErrorBody>(StatusCodes.Status404NotFound)
            .Produces<ErrorBody>(StatusCodes.Status429TooManyRequests)
            .RequireAdmission(new AdmissionMetadata(Surface.Platform));
        api.MapGet("/realtime/{job_id}", (HttpContext context, PlatformRealtimeEndpoint endpoint) => endpoint.HandleAsync(context))
            .WithName("Platform_Realtime")
            .WithSummary("The realtime WebSocket of a realtime job (?token=… from realtime_url, one connection): Pipecat's WebSocket transport protocol, or with audio_format/sample_rate/num_channels a Models API stream.")
            .Produces(StatusCodes.Status101SwitchingProtocols)
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest)
            .RequireAdmission(new AdmissionMetadata(Surface.Platform, ModelCatalog.Get(PlatformModels.RealtimeTranscription), metered: true));
        return app;
    }
}

internal sealed class PlatformEndpoint(
    PlatformRequests requests,
    AudioQuota quota,
    IOptions<TollgateOptions> tollgate,
    IOptions<UploadOptions> uploads,
    TimeProvider time)
{
    private readonly PlatformOptions _options = requests.Options;
    private readonly string _spoolDirectory = tollgate.Value.SpoolDirectory!;
    private readonly UploadDeadline _deadline = new(uploads.Value, time);

    private static Principal Caller(HttpContext context) =>
        context.Features.Get<AdmissionFeature>()?.Principal
        ?? throw new InvalidOperationException("The Platform API is only reached through admission.");

    private PlatformRefusal TooLarge() => new(StatusCodes.Status413PayloadTooLarge, PlatformCodes.FileTooLarge,
        $"The audio exceeds the {_options.MaxFileText} limit (the decoded audio, and a request body of at most {_options.MaxJsonBodyBytes} bytes for JSON, {_options.MaxMultipartBodyBytes} for multipart).");

    public async Task SubmitAsync(HttpContext context)
    {
        var caller = Caller(context);
        var (form, refusal) = await ReadAsync(context);
        if (refusal is not null)
        {
            await refusal.WriteAsync(context);
            return;
        }
        await using (form)
        {
            var outcome = await SubmitAsync(context, caller, form!);
            if (outcome is PlatformRefusal refused)
            {
                await refused.WriteAsync(context);
            }
            else if (outcome is Rejection rejection)
            {
                await rejection.WriteAsync(context);
            }
            else
            {
                await context.Response.WriteAsJsonAsync((JsonObject)outcome, context.RequestAborted);
            }
        }
    }

    /// <summary>Reads the body (JSON or multipart) into a form; a refusal when it cannot be taken.</summary>
    private async Task<(PlatformSubmissionForm? Form, PlatformRefusal? Refusal)> ReadAsync(HttpContext context)
    {
        var request = context.Request;
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            && media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var limits = new UploadLimits(_options.MaxFileBytes, _options.MaxMultipartBodyBytes, _options.MaxFileText, PlatformCodes.FileTooLarge);
            var (upload, rejection) = await BatchUpload.ReadAsync(context, _spoolDirectory, "file", _deadline, limits);
            if (rejection is { } refused)
            {
                return (null, new PlatformRefusal(refused.Status, refused.Code, refused.Status == StatusCodes.Status413PayloadTooLarge ? TooLarge().Detail : refused.Detail));
            }
            var form = new PlatformSubmissionForm { Audio = upload!.File, AudioLength = upload.Length, AudioGiven = upload.File is not null };
            if (form.TakeForm(upload.Fields, upload.FileName) is { } bad)
            {
                await form.DisposeAsync();
                return (null, bad);
            }
            return (form, null);
        }
        if (!request.HasJsonContentType())
        {
            var given = string.IsNullOrEmpty(request.ContentType) ? "no Content-Type" : $"Content-Type '{request.ContentType}'";
            return (null, new PlatformRefusal(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
                $"POST /api_service takes application/json (audio_base64) or multipart/form-data (file); this request has {given}."));
        }
        return await ReadJsonAsync(context);
    }

    private async Task<(PlatformSubmissionForm?, PlatformRefusal?)> ReadJsonAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = _options.MaxJsonBodyBytes;
        }
        if (request.ContentLength > _options.MaxJsonBodyBytes)
        {
            context.Response.Headers.Connection = "close";
            return (null, TooLarge());
        }
        var allowed = _deadline.Options.DeadlineFor(request.ContentLength ?? _options.MaxJsonBodyBytes);
        using var timeout = new CancellationTokenSource(allowed, _deadline.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token);
        var spool = CreateSpoolFile(_spoolDirectory);
        try
        {
            var (fields, given, length) = await PlatformJsonBody.ReadAsync(request.Body, spool, _options.MaxFileBytes, linked.Token);
            spool.Seek(0, SeekOrigin.Begin);
            var form = new PlatformSubmissionForm { Audio = spool, AudioLength = length, AudioGiven = given };
            if (form.TakeJson(fields) is { } bad)
            {
                await form.DisposeAsync();
                return (null, bad);
            }
            return (form, null);
        }
        catch (Exception ex)
        {
            await spool.DisposeAsync();
            switch (ex)
            {
                case BodyRefusal { Status: StatusCodes.Status413PayloadTooLarge }:
                case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                    // The rest of the body is never read.
                    context.Response.Headers.Connection = "close";
                    return (null, TooLarge());
                case BodyRefusal refused:
                    context.Response.Headers.Connection = "close";
                    return (null, new PlatformRefusal(refused.Status, refused.Code, refused.Detail));
                case OperationCanceledException when timeout.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested:
                    context.Response.Headers.Connection = "close";
                    return (null, new PlatformRefusal(StatusCodes.Status408RequestTimeout, ErrorCodes.UploadTimeout,
                        $"The upload did not arrive within {_deadline.Options.Describe(allowed)}. Send it again over a faster link, or send a smaller file."));
                case BadHttpRequestException bad:
                    return (null, new PlatformRefusal(bad.StatusCode, ErrorCodes.InvalidRequest, "The request body could not be read."));
                default:
                    throw;
            }
        }
    }

    private static FileStream CreateSpoolFile(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "platform-" + Guid.NewGuid().ToString("N") + ".part");
        return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
    }

    /// <summary>Decides what the form asks for; the answer body, a <see cref="PlatformRefusal"/> or an admission-style <see cref="Rejection"/>.</summary>
    private async Task<object> SubmitAsync(HttpContext context, Principal caller, PlatformSubmissionForm form)
    {
        var ct = context.RequestAborted;
        if (form.SubmissionType is { } type)
        {
            if (type != "realtime_websocket")
            {
                return Shape($"Unknown submission_type '{type}': the only value is realtime_websocket (file jobs omit the field).");
            }
            if (form.AudioGiven || form.JobId is not null || form.Finalize is not null)
            {
                return Shape("A realtime submission carries no audio, job_id or finalize_job: the audio is streamed to the realtime_url of the answer.");
            }
            return await RealtimeAsync(context, caller, form.Flags ?? PlatformFlags.None, ct);
        }
        if (!form.AudioGiven)
        {
            return new PlatformRefusal(StatusCodes.Status422UnprocessableEntity, PlatformCodes.MissingAudio,
                "audio_base64 (JSON) or a file part (multipart) is required unless submission_type is realtime_websocket.");
        }
        if (form.FileExtension is null)
        {
            return Shape("file_extension is required (mp3, wav or opus).");
        }
        if (form.NormalizedExtension is not { } extension)
        {
            return new PlatformRefusal(StatusCodes.Status400BadRequest, ErrorCodes.UnsupportedFormat,
                $"Unsupported file_extension '{form.FileExtension}'. Supported: mp3, wav, opus.");
        }
        if (form.Filename is { Length: > 255 })
        {
            return Shape("filename is longer than 255 characters.");
        }
        if (form.AudioLength == 0)
        {
            return new PlatformRefusal(StatusCodes.Status400BadRequest, PlatformCodes.EmptyAudio, "The audio is empty.");
        }

        PlatformJob? existing = null;
        if (form.JobId is { } jobId)
        {
            existing = await requests.GetAsync(jobId, caller.OrgId, ct);
            if (existing is null)
            {
                return NotFound();
            }
            if (form.Flags is { } sent && sent != existing.Flags)
            {
                return new PlatformRefusal(StatusCodes.Status422UnprocessableEntity, PlatformCodes.FlagsMismatch,
                    "A job's flags are fixed by its first upload: send the same flags, or none.");
            }
            if (NotOpen(existing) is { } closed)
            {
                return closed;
            }
        }
        var flags = existing?.Flags ?? form.Flags ?? PlatformFlags.None;

        var probe = AudioProbe.Probe(form.Audio!);
        if (!probe.Success || !Matches(extension, probe.Info))
        {
            return new PlatformRefusal(StatusCodes.Status400BadRequest, PlatformCodes.UndecodableAudio, $"The audio could not be decoded as {extension}.");
        }
        if (probe.Info.DurationMs == 0)
        {
            return new PlatformRefusal(StatusCodes.Status400BadRequest, PlatformCodes.EmptyAudio, "The audio holds no samples.");
        }
        if (flags.HasFlag(PlatformFlags.DeepfakeDetection) && probe.Info.DurationMs < PlatformModels.DeepfakeMinDurationMs)
        {
            return new PlatformRefusal(StatusCodes.Status422UnprocessableEntity, ErrorCodes.AudioTooShort,
                "The audio is too short for deepfake_detection (at least 0.5 s).");
        }
        if (await AdmitModelsAsync(caller, flags, probe.Info.DurationMs, ct) is { } refusedModel)
        {
            return refusedModel;
        }

        var file = new AcceptedFile(form.Audio!, probe.Info.DurationMs, extension, form.Filename);
        if (existing is null)
        {
            var finalize = form.Finalize ?? true;
            var job = await requests.CreateFileJobAsync(caller, flags, file, finalize, ct);
            return Accepted(job, job.Files[0]);
        }
        var (outcome, after, added) = await requests.AddFileAsync(caller, existing.Id, file, form.Finalize ?? false, ct);
        return outcome switch
        {
            AddOutcome.Added => Accepted(after!, added!),
            AddOutcome.NotFound => NotFound(),
            _ => NotOpen(after!) ?? new PlatformRefusal(StatusCodes.Status409Conflict, PlatformCodes.JobNotOpen, $"Job {existing.Id} accepts no more files."),
        };
    }

    /// <summary>A realtime job: the key must be entitled to the streaming model; the answer carries the stream's one-time URL.</summary>
    private async Task<object> RealtimeAsync(HttpContext context, Principal caller, PlatformFlags flags, CancellationToken ct)
    {
        if (flags != PlatformFlags.None)
        {
            return Shape($"Realtime jobs take no analysis flags on this server ({string.Join(", ", PlatformModels.Names(flags))}): the stream is transcribed only. Send flags {{}} or none.");
        }
        if (!caller.TryGetLimits(PlatformModels.RealtimeTranscription, out var limits))
        {
            return new Rejection(StatusCodes.Status403Forbidden, CloseCodes.Forbidden, ErrorCodes.ModelNotPermitted,
                $"This request is not permitted: a realtime stream needs {PlatformModels.RealtimeTranscription}, and the API key is not entitled to it.");
        }
        var scope = quota.Scope(caller, PlatformModels.RealtimeTranscription, limits);
        var standing = await quota.StandingAsync(scope, ct);
        if (standing.RemainingMs <= 0)
        {
            return QuotaRejection.For(PlatformModels.RealtimeTranscription, AudioQuota.Refusal(scope, 0, standing.LimitedByOrganizationCap));
        }
        var (job, token) = await requests.CreateRealtimeJobAsync(caller, flags, ct);
        var request = context.Request;
        var scheme = request.IsHttps ? "wss" : "ws";
        return new JsonObject
        {
            ["job_id"] = job.Id,
            ["status"] = PlatformJson.Status(job.Status),
            ["submission_type"] = "realtime_websocket",
            ["realtime_url"] = $"{scheme}://{request.Host}{request.PathBase}/api_service/realtime/{job.Id}?{RealtimeTokens.TokenParameter}={token}",
            ["realtime_url_expires_in_seconds"] = (int)Math.Round(_options.RealtimeUrlSeconds),
            ["api_calls_charged"] = 0,
        };
    }

    /// <summary>Every model the file needs must be in the key's entitlements and have the file's duration left this month.</summary>
    private async Task<Rejection?> AdmitModelsAsync(Principal caller, PlatformFlags flags, long durationMs, CancellationToken ct)
    {
        foreach (var model in PlatformModels.BatchModels(flags))
        {
            if (!caller.TryGetLimits(model, out _))
            {
                var why = PlatformModels.For(flags).FirstOrDefault(a => a.Model == model) is { } analysis
                    ? $"the flag '{analysis.Name}' needs {model}"
                    : $"transcription needs {model}";
                return new Rejection(StatusCodes.Status403Forbidden, CloseCodes.Forbidden, ErrorCodes.ModelNotPermitted,
                    $"This request is not permitted: {why}, and the API key is not entitled to it.");
            }
        }
        foreach (var model in PlatformModels.BatchModels(flags))
        {
            caller.TryGetLimits(model, out var limits);
            var scope = quota.Scope(caller, model, limits);
            var standing = await quota.StandingAsync(scope, ct);
            if (standing.RemainingMs < durationMs)
            {
                return QuotaRejection.ForFile(model, durationMs, AudioQuota.Refusal(scope, standing.RemainingMs, standing.LimitedByOrganizationCap));
            }
        }
        return null;
    }

    /// <summary>Whether the bytes are what <c>file_extension</c> says (opus: Ogg or WebM with Opus inside).</summary>
    private static bool Matches(string extension, AudioInfo info) => extension switch
    {
        "wav" => info.Container == AudioContainer.Wav,
        "mp3" => info.Container == AudioContainer.Mp3,
        _ => info.Container is AudioContainer.Ogg or AudioContainer.Matroska && info.Codec == "opus",
    };

    private static PlatformRefusal Shape(string detail) => new(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed, detail);

    private static PlatformRefusal NotFound() => new(StatusCodes.Status404NotFound, PlatformCodes.JobNotFound, "Job not found.");

    private static PlatformRefusal? NotOpen(PlatformJob job) =>
        job is { Submission: PlatformSubmission.File, Status: PlatformJobStatus.Pending }
            ? null
            : new PlatformRefusal(StatusCodes.Status409Conflict, PlatformCodes.JobNotOpen, job.Submission == PlatformSubmission.Realtime
                ? $"Job {job.Id} is a realtime job: its audio is streamed, not uploaded."
                : $"Job {job.Id} is already finalized (status {PlatformJson.Status(job.Status)}) and accepts no more files.");

    private JsonObject Accepted(PlatformJob job, PlatformFile file)
    {
        var answer = new JsonObject
        {
            ["job_id"] = job.Id,
            ["status"] = PlatformJson.Status(job.Status),
            ["api_calls_charged"] = PlatformModels.ApiCalls(job.Flags),
            ["files_received"] = job.Files.Count,
            ["file_index"] = file.Index,
        };
        if (job.Status == PlatformJobStatus.Processing)
        {
            answer["estimated_processing_time"] = EstimatedTime(job);
        }
        else
        {
            answer["expires_at"] = PlatformJson.Time(job.ExpiresAt);
        }
        return answer;
    }

    /// <summary>A rough range: one poll interval, plus a second per 30 s of audio per model (the reference backend's pace, with room).</summary>
    private string EstimatedTime(PlatformJob job)
    {
        var audioSeconds = job.Files.Sum(f => f.DurationMs) / 1000.0 * PlatformModels.BatchModels(job.Flags).Count;
        var low = _options.PollSeconds + (int)Math.Ceiling(audioSeconds / 30);
        return string.Create(CultureInfo.InvariantCulture, $"{low}-{low * 2} seconds");
    }

    public async Task StatusAsync(HttpContext context, string jobId)
    {
        var caller = Caller(context);
        var job = await requests.GetAsync(jobId, caller.OrgId, context.RequestAborted);
        if (job is null)
        {
            await NotFound().WriteAsync(context);
            return;
        }
        var terminal = job.Status is PlatformJobStatus.Completed or PlatformJobStatus.Failed;
        if (!terminal)
        {
            context.Response.Headers.RetryAfter = _options.PollSeconds.ToString(CultureInfo.InvariantCulture);
        }
        await context.Response.WriteAsJsonAsync(PlatformJson.Status(job, terminal ? null : _options.PollSeconds), context.RequestAborted);
    }
}
