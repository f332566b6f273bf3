using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Models;
using Tollgate.Backends.Reference;
using Tollgate.Backends.Reference.Batch;
using Tollgate.Backends.Reference.Codecs.Mp3;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;
using Tollgate.Server.Models;
using Tollgate.Platform;

namespace Tollgate.Server.Backends;

/// <summary>
/// The built-in stand-in for the models: real duration probing, decoding (WAV/AIFF/AU; MP3, FLAC, Ogg and WebM through
/// managed codecs) and energy segmentation (see <c>Tollgate.Backends.Reference</c>), answered in the contracts' shapes. It has no speech
/// recognizer and no trained classifier, and its answers say so (empty transcripts, neutral labels).
/// </summary>
internal sealed partial class ReferenceBackend(ILogger<ReferenceBackend> logger, Mp3Availability mp3) : IModelBackend
{
    private const string PiiBatch = "velma-2-pii-phi-redaction-batch";
    private const string PiiStreaming = "velma-2-pii-phi-redaction-streaming";

    public async Task<BatchOutcome> HandleBatchAsync(BatchCall call, HttpContext context)
    {
        if (call.Model.Name == PiiBatch && !mp3.Available)
        {
            await ApiError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.Mp3EncoderUnavailable, mp3.Problem!);
            return BatchOutcome.Failed;
        }
        if (!BatchOptions.TryParse(call.Model, call.Upload.Fields, out var options, out var error))
        {
            await WriteOptionsErrorAsync(context, error!);
            return BatchOutcome.Failed;
        }
        var file = call.Upload.File!;
        file.Seek(0, SeekOrigin.Begin);
        if (!ReferenceBatch.TryAnalyze(call.Model, call.Audio, file, call.Upload.FileName, options!, out var result, out var undecodable))
        {
            // Damaged compressed data, found while decoding: the probe's "could not be processed" answer.
            LogUndecodable(logger, call.Model.Name, undecodable);
            await ApiError.WriteAsync(context, BatchEndpoint.UnprocessableStatus(call.Model), ErrorCodes.UnprocessableAudio, BatchEndpoint.UnprocessableAudio);
            return BatchOutcome.Failed;
        }
        if (call.Model.Name == PiiBatch)
        {
            await WriteRedactionAsync(context, result, call);
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            await context.Response.WriteAsJsonAsync(result, context.RequestAborted);
        }
        return new BatchOutcome(true, call.Audio.DurationMs);
    }

    public Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken ct)
    {
        if (!ModelCatalog.TryGet(request.Model, out var model) || model.Kind != ModelKind.Batch)
        {
            return Task.FromResult(new AnalysisResult(null, ErrorCodes.InternalError, $"{request.Model} is not a batch model."));
        }
        if (!BatchOptions.TryParse(model, request.Fields, out var options, out var error))
        {
            return Task.FromResult(new AnalysisResult(null, error!.Code, error.Detail));
        }
        if (!ReferenceBatch.TryAnalyze(model, request.Info, request.Audio, request.FileName, options!, out var result, out var undecodable))
        {
            LogUndecodable(logger, model.Name, undecodable);
            return Task.FromResult(new AnalysisResult(null, "undecodable_audio", BatchEndpoint.UnprocessableAudio));
        }
        return Task.FromResult(new AnalysisResult(result));
    }

    private static Task WriteOptionsErrorAsync(HttpContext context, BatchOptionsError error) =>
        ApiError.WriteAsync(context, error.Status, error.Code, error.Detail);

    /// <summary>
    /// The redaction contract answers multipart/form-data: a <c>metadata</c> JSON part and an <c>audio</c> part, MP3.
    /// The reference finds no PII (it has no recognizer), so nothing is silenced: the audio part is the upload decoded
    /// and encoded as MP3 (mono, its rate; spooled to a temporary file, not memory). A format the reference cannot
    /// decode (AAC, MP4/M4A, WMA, AMR) cannot be re-encoded: its audio part is the upload itself, in its own type.
    /// </summary>
    private static async Task WriteRedactionAsync(HttpContext context, JsonObject metadata, BatchCall call)
    {
        var file = call.Upload.File!;
        file.Seek(0, SeekOrigin.Begin);
        await using var mp3 = RedactedAudio.CreateSpoolFile();
        var encoded = RedactedAudio.TryWriteMp3(call.Audio, file, mp3);
        var audio = encoded ? mp3 : file;
        audio.Seek(0, SeekOrigin.Begin);
        var boundary = "tollgate-" + Guid.NewGuid().ToString("N");
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = $"multipart/form-data; boundary={boundary}";
        var body = context.Response.Body;
        var ct = context.RequestAborted;
        await body.WriteAsync(Encoding.UTF8.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n"), ct);
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(metadata), ct);
        var name = Path.GetFileName(call.Upload.FileName ?? "audio") is { Length: > 0 } given ? given.Replace("\"", "") : "audio";
        var fileName = encoded ? Path.ChangeExtension(name, ".mp3") : name;
        await body.WriteAsync(Encoding.UTF8.GetBytes(
            $"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"{fileName}\"\r\nContent-Type: {(encoded ? RedactedAudio.MediaType : MediaType(call))}\r\n\r\n"), ct);
        await audio.CopyToAsync(body, ct);
        await body.WriteAsync(Encoding.UTF8.GetBytes($"\r\n--{boundary}--\r\n"), ct);
    }

    /// <summary>The upload's own media type, for the formats that cannot be re-encoded as MP3.</summary>
    private static string MediaType(BatchCall call) => call.Audio.Container switch
    {
        Audio.AudioContainer.Mp3 => "audio/mpeg",
        Audio.AudioContainer.Wav => "audio/wav",
        Audio.AudioContainer.Flac => "audio/flac",
        Audio.AudioContainer.Ogg => "audio/ogg",
        Audio.AudioContainer.Aiff => "audio/aiff",
        Audio.AudioContainer.Mp4 => "audio/mp4",
        Audio.AudioContainer.Matroska => "audio/webm",
        Audio.AudioContainer.Adts => "audio/aac",
        Audio.AudioContainer.Amr => "audio/amr",
        Audio.AudioContainer.Asf => "audio/x-ms-wma",
        _ => "application/octet-stream",
    };

    public async Task<StreamEnd> HandleStreamAsync(StreamCall call, WebSocket socket, CancellationToken ct)
    {
        if (call.Model.Name == PiiStreaming && !mp3.Available)
        {
            await FailAsync(socket, (int)WebSocketCloseStatus.InternalServerError, ErrorCodes.Mp3EncoderUnavailable, mp3.Problem!, ct);
            return StreamEnd.Failed;
        }
        var settings = call.Settings;
        var configExpected = settings.AcceptsConfigFrame;
        var configSeen = false;
        IStreamAnalyzer? analyzer = null;
        var events = new List<StreamEvent>();
        try
        {
            while (true)
            {
                var message = await WebSocketMessages.ReadAsync(socket, ct);
                try
                {
                    if (message.IsClose)
                    {
                        // The client left without ending the stream: nothing more to say.
                        await WebSocketMessages.CloseQuietlyAsync(socket, WebSocketCloseStatus.NormalClosure, null, ct);
                        return StreamEnd.Gone;
                    }
                    if (message.Type == WebSocketMessageType.Text)
                    {
                        var text = Encoding.UTF8.GetString(message.Payload.Span);
                        if (text.Length == 0)
                        {
                            if (settings.RequiresConfigFrame && !configSeen)
                            {
                                await FailAsync(socket, CloseCodes.InvalidParameters, ErrorCodes.InvalidConfiguration, "Invalid configuration.", ct);
                                return StreamEnd.Failed;
                            }
                            analyzer ??= ReferenceStreaming.Create(settings);
                            var outcome = analyzer.Complete(events);
                            if (!outcome.Succeeded)
                            {
                                await FailAsync(socket, outcome.CloseCode, ErrorCodes.UnprocessableAudio, outcome.Error!, ct);
                                return StreamEnd.Failed;
                            }
                            if (!await call.Meter.AdvanceToAsync(analyzer.DurationMs, ct))
                            {
                                // Audio measured only at the end (compressed) did not fit in what remained.
                                return CutOff(events);
                            }
                            await SendAsync(socket, events, ct);
                            await WebSocketMessages.CloseQuietlyAsync(socket, WebSocketCloseStatus.NormalClosure, null, ct);
                            return StreamEnd.Completed;
                        }
                        if (configExpected && !configSeen && analyzer is null)
                        {
                            if (!settings.TryApplyConfig(text, out var configError))
                            {
                                await FailAsync(socket, CloseCodes.InvalidParameters, ErrorCodes.InvalidConfiguration, configError!, ct);
                                return StreamEnd.Failed;
                            }
                            configSeen = true;
                            continue;
                        }
                        await FailAsync(socket, CloseCodes.InvalidParameters, ErrorCodes.InvalidRequest,
                            "Unexpected text frame: send audio as binary frames and an empty text frame to end the stream.", ct);
                        return StreamEnd.Failed;
                    }
                    if (settings.RequiresConfigFrame && !configSeen)
                    {
                        await FailAsync(socket, CloseCodes.InvalidParameters, ErrorCodes.InvalidConfiguration,
                            "Audio received before the configuration frame: send `default` or a BatchConfig JSON first.", ct);
                        return StreamEnd.Failed;
                    }
                    analyzer ??= ReferenceStreaming.Create(settings);
                    analyzer.Append(message.Payload.Span, events);
                    if (analyzer.Failure is { } failure)
                    {
                        // The audio is known to be unusable (an invalid header, container bytes on a raw channel): say so now.
                        await FailAsync(socket, failure.CloseCode, ErrorCodes.UnprocessableAudio, failure.Error!, ct);
                        return StreamEnd.Failed;
                    }
                    if (!await call.Meter.AdvanceToAsync(analyzer.DurationMs, ct))
                    {
                        return CutOff(events);
                    }
                    await SendAsync(socket, events, ct);
                }
                finally
                {
                    message.Return();
                }
            }
        }
        catch (InvalidDataException ex)
        {
            await FailAsync(socket, CloseCodes.InvalidParameters, ErrorCodes.InvalidRequest, ex.Message, ct);
            return StreamEnd.Failed;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            LogClientGone(logger, call.Model.Name);
            return StreamEnd.Gone;
        }
        finally
        {
            analyzer?.Dispose();
        }
    }

    private static async Task SendAsync(WebSocket socket, List<StreamEvent> events, CancellationToken ct)
    {
        foreach (var e in events)
        {
            if (e.Json is { } json)
            {
                await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(json), WebSocketMessageType.Text, true, ct);
            }
            else
            {
                await socket.SendAsync(e.Binary, WebSocketMessageType.Binary, true, ct);
            }
        }
        events.Clear();
    }

    /// <summary>
    /// The month's audio ran out mid-stream: the events of the frame that crossed the limit are dropped; the caller sends
    /// the quota error and close 4029, and the stream is charged exactly what the quota granted.
    /// </summary>
    private static StreamEnd CutOff(List<StreamEvent> events)
    {
        events.Clear();
        return StreamEnd.QuotaExhausted;
    }

    private static Task FailAsync(WebSocket socket, int closeCode, string code, string detail, CancellationToken ct) =>
        Rejection.SendErrorAndCloseAsync(socket, closeCode, code, detail, ct);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A {Model} upload could not be decoded: {Problem}")]
    private static partial void LogUndecodable(ILogger logger, string model, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A {Model} stream ended without its end-of-stream frame")]
    private static partial void LogClientGone(ILogger logger, string model);
}
