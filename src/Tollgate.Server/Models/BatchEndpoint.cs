using Microsoft.AspNetCore.Http.Features;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Tollgate.Audio;
using Tollgate.Models;
using Tollgate.Server.Admission;
using Tollgate.Server.Backends;
using Tollgate.Server.Hosting;
using Tollgate.Server.Http;

namespace Tollgate.Server.Models;

/// <summary>
/// <c>POST /api/{model}</c> for the batch models: read the upload as it streams, validate it as the contract
/// says, probe its real duration, then dispatch to the model's backend and meter what was processed.
/// </summary>
internal sealed class BatchEndpoint(BackendRegistry backends, IOptions<TollgateOptions> options, IOptions<UploadOptions> uploads, TimeProvider time)
{
    private readonly string _spoolDirectory = options.Value.SpoolDirectory!;
    private readonly UploadDeadline _deadline = new(uploads.Value, time);


    public const string UnprocessableAudio = "The audio could not be processed. It may be corrupted or in an unsupported format.";

    public async Task HandleAsync(HttpContext context, ModelDescriptor model)
    {
        if (backends.For(model) is IForwardingBackend forwarding && await TryForwardAsync(context, model, forwarding))
        {
            return;
        }
        var (upload, rejection) = await BatchUpload.ReadAsync(context, _spoolDirectory, deadline: _deadline);
        if (rejection is { } refused)
        {
            await refused.WriteAsync(context);
            return;
        }
        await using (upload)
        {
            if (upload!.File is null)
            {
                await WriteMissingUploadFile(context);
                return;
            }
            if (await CheckAudioAsync(context, model, upload.Extension, upload.Length == 0, () => AudioProbe.Probe(upload.File)) is not { } probe)
            {
                return;
            }
            var call = new BatchCall(model, upload, probe.Info);
            await DispatchMeteredAsync(context, model, probe.Info.DurationMs, () => backends.For(model).HandleBatchAsync(call, context), null);
        }
    }

    /// <summary>
    /// The upstream path: reads the upload's beginning only, and when it establishes the duration, validates, reserves
    /// and forwards the body as it was sent. False when the beginning did not decide (the file must be spooled): the
    /// body then replays from its first byte.
    /// </summary>
    private async Task<bool> TryForwardAsync(HttpContext context, ModelDescriptor model, IForwardingBackend forwarding)
    {
        var (upload, rejection) = await UploadHead.ReadAsync(context, _deadline);
        if (rejection is { } refused)
        {
            await refused.WriteAsync(context);
            return true;
        }
        if (upload is null)
        {
            return false;
        }
        if (await CheckAudioAsync(context, model, upload.Extension, upload.Whole && upload.Probe.Error == ProbeError.Empty, () => upload.Probe) is not { } probe)
        {
            return true;
        }
        var call = new ForwardedBatchCall(model, upload, probe.Info);
        await DispatchMeteredAsync(context, model, probe.Info.DurationMs, () => forwarding.ForwardAsync(call, context), upload.MeasuredMs);
        return true;
    }

    /// <summary>
    /// What the contract checks of the file, in its order: not empty, an accepted extension, audio the probes read, a
    /// format the model takes, long enough. The probe on success; null when the answer (400/422) was written.
    /// </summary>
    private static async Task<ProbeResult?> CheckAudioAsync(HttpContext context, ModelDescriptor model, string extension, bool empty, Func<ProbeResult> probeFile)
    {
        if (empty)
        {
            await ApiError.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.EmptyFile, "The uploaded file is empty.");
            return null;
        }
        if (extension.Length > 0 && !model.Extensions.Contains(extension))
        {
            await ApiError.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.UnsupportedFormat, model.SupportedFormatsSentence);
            return null;
        }
        var probe = probeFile();
        if (!probe.Success)
        {
            var status = probe.Error == ProbeError.Empty ? StatusCodes.Status400BadRequest : UnprocessableStatus(model);
            await ApiError.WriteAsync(context, status, ProbeCode(probe.Error), ProbeDetail(probe.Error));
            return null;
        }
        if (!model.Accepts(probe.Info.Container))
        {
            await ApiError.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.UnsupportedFormat, model.SupportedFormatsSentence);
            return null;
        }
        if (probe.Info.DurationMs < model.MinDurationMs)
        {
            await ApiError.WriteAsync(context, StatusCodes.Status422UnprocessableEntity, ErrorCodes.AudioTooShort, "The audio is too short to analyze.");
            return null;
        }
        return probe;
    }

    /// <summary>
    /// Reserves the file's probed duration (all of it or nothing, so parallel uploads can never together pass the
    /// limit) and lets the backend answer. The request's <see cref="Tollgate.Metering.MeteredCall"/> charges it, or gives
    /// the reservation back, when admission settles it — before the answer completes. A forwarded upload is charged
    /// what its file measured once it had passed (<paramref name="measured"/>), never more than was reserved.
    /// </summary>
    private static async Task DispatchMeteredAsync(HttpContext context, ModelDescriptor model, long durationMs, Func<Task<BatchOutcome>> dispatch, Func<long?>? measured)
    {
        var metered = context.Features.GetRequiredFeature<AdmissionFeature>().Call!;
        if (!await metered.ReserveAsync(durationMs, context.RequestAborted))
        {
            var refusal = metered.Refusal();
            var usage = await context.RequestServices.GetRequiredService<QuotaUsageNote>().DescribeAsync(metered, refusal, context.RequestAborted);
            await QuotaRejection.ForFile(model.Name, durationMs, refusal, usage).WriteAsync(context);
            return;
        }
        var outcome = await dispatch();
        if (outcome.Succeeded)
        {
            metered.Succeeded(Math.Min(measured?.Invoke() ?? outcome.MeasuredMs, outcome.MeasuredMs));
        }
    }

    /// <summary>The contracts' HTTPValidationError shape (FastAPI's), with our machine code beside it.</summary>
    private static Task WriteMissingUploadFile(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        var body = new JsonObject
        {
            ["detail"] = new JsonArray(new JsonObject
            {
                ["loc"] = new JsonArray("body", "upload_file"),
                ["msg"] = "Field required",
                ["type"] = "missing",
            }),
            ["code"] = ErrorCodes.MissingField,
        };
        return context.Response.WriteAsJsonAsync(body);
    }

    /// <summary>The status of "the audio could not be processed" in <paramref name="model"/>'s contract.</summary>
    internal static int UnprocessableStatus(ModelDescriptor model) =>
        model.UnprocessableAudioIs422 ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status400BadRequest;

    // The extension (if any) was acceptable, so content the probes cannot read is "could not be processed".
    private static string ProbeCode(ProbeError error) =>
        error == ProbeError.Empty ? ErrorCodes.EmptyFile : ErrorCodes.UnprocessableAudio;

    private static string ProbeDetail(ProbeError error) =>
        error == ProbeError.Empty ? "The uploaded file is empty." : UnprocessableAudio;
}
