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
        var (upload, rejection) = await BatchUpload.ReadAsync(context, _spoolDirectory, deadline: _deadline);
        if (rejection is { } refused)
        {
            await refused.WriteAsync(context);
            return;
        }
        await using (upload)
        {
            if (Validate(upload!, model) is { } invalid)
            {
                await invalid(context);
                return;
            }
            var probe = AudioProbe.Probe(upload!.File!);
            if (!probe.Success)
            {
                var status = probe.Error == ProbeError.Empty ? StatusCodes.Status400BadRequest : UnprocessableStatus(model);
                await ApiError.WriteAsync(context, status, ProbeCode(probe.Error), ProbeDetail(probe.Error));
                return;
            }
            if (!model.Accepts(probe.Info.Container))
            {
                await ApiError.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.UnsupportedFormat, model.SupportedFormatsSentence);
                return;
            }
            if (probe.Info.DurationMs < model.MinDurationMs)
            {
                await ApiError.WriteAsync(context, StatusCodes.Status422UnprocessableEntity, ErrorCodes.AudioTooShort, "The audio is too short to analyze.");
                return;
            }
            await DispatchMeteredAsync(context, new BatchCall(model, upload, probe.Info));
        }
    }

    /// <summary>
    /// Reserves the file's probed duration (all of it or nothing, so parallel uploads can never together pass the
    /// limit) and lets the backend answer. The request's <see cref="Tollgate.Metering.MeteredCall"/> charges it, or gives
    /// the reservation back, when admission settles it — before the answer completes.
    /// </summary>
    private async Task DispatchMeteredAsync(HttpContext context, BatchCall call)
    {
        var metered = context.Features.GetRequiredFeature<AdmissionFeature>().Call!;
        if (!await metered.ReserveAsync(call.Audio.DurationMs, context.RequestAborted))
        {
            var refusal = metered.Refusal();
            var usage = await context.RequestServices.GetRequiredService<QuotaUsageNote>().DescribeAsync(metered, refusal, context.RequestAborted);
            await QuotaRejection.ForFile(call.Model.Name, call.Audio.DurationMs, refusal, usage).WriteAsync(context);
            return;
        }
        var outcome = await backends.For(call.Model).HandleBatchAsync(call, context);
        if (outcome.Succeeded)
        {
            metered.Succeeded(outcome.MeasuredMs);
        }
    }

    private static Func<HttpContext, Task>? Validate(BatchUpload upload, ModelDescriptor model)
    {
        if (upload.File is null)
        {
            return WriteMissingUploadFile;
        }
        if (upload.Length == 0)
        {
            return c => ApiError.WriteAsync(c, StatusCodes.Status400BadRequest, ErrorCodes.EmptyFile, "The uploaded file is empty.");
        }
        if (upload.Extension.Length > 0 && !model.Extensions.Contains(upload.Extension))
        {
            return c => ApiError.WriteAsync(c, StatusCodes.Status400BadRequest, ErrorCodes.UnsupportedFormat, model.SupportedFormatsSentence);
        }
        return null;
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
