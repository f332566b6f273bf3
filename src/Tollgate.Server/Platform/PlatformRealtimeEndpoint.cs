using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Tollgate.Backends.Reference;
using Tollgate.Models;
using Tollgate.Platform;
using Tollgate.Server.Admission;
using Tollgate.Server.Backends;
using Tollgate.Server.Http;
using Tollgate.Server.Models;

namespace Tollgate.Server.Platform;

/// <summary>
/// <c>GET /api_service/realtime/{job_id}?token=…</c>, the WebSocket a realtime submission hands out. Admission
/// authenticates its one-time token (<see cref="RealtimeTokens"/>) and, as for any Models API stream, takes a
/// concurrency lease on <see cref="PlatformModels.RealtimeTranscription"/> and checks its quota; the stream is then
/// served by that model's streaming backend, metered as its audio arrives and cut off (4029) when the month's audio
/// runs out. Without further parameters it speaks Pipecat's WebSocket transport protocol; with the Models API
/// streaming parameters (<c>audio_format</c>, <c>sample_rate</c>, <c>num_channels</c>) it is a plain Models API stream.
/// When the stream ends the job is completed with the utterances the client was sent. While it is open this node renews
/// the job's lease (<see cref="PlatformRequests.StreamLease"/>) every third of it, so another node's sweep marks the
/// job <c>stream_interrupted</c> only once this node has stopped (died, or lost the store for longer than the lease).
/// </summary>
internal sealed partial class PlatformRealtimeEndpoint(BackendRegistry backends, StreamSupervisor supervisor, PlatformRequests requests, TimeProvider time,
    ILogger<PlatformRealtimeEndpoint> logger)
{
    private static readonly Dictionary<string, string> PipecatAudio = new(StringComparer.Ordinal)
    {
        ["audio_format"] = "s16le",
        ["sample_rate"] = "16000",
        ["num_channels"] = "1",
    };

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiError.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest,
                "This is a realtime WebSocket: connect to the realtime_url with ws:// (or wss://), e.g. PipecatClient.connect({ wsUrl }).");
            return;
        }
        var model = ModelCatalog.Get(PlatformModels.RealtimeTranscription);
        var job = (PlatformJob)context.Items[RealtimeTokens.JobItem]!;
        var query = context.Request.Query
            .Where(p => p.Key is not (RealtimeTokens.TokenParameter or "api_key"))
            .ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        var pipecat = query.Count == 0;
        if (!StreamSettings.TryParse(model, pipecat ? PipecatAudio : query, out var settings, out var error))
        {
            await new Rejection(StatusCodes.Status400BadRequest, CloseCodes.InvalidParameters, ErrorCodes.InvalidParameter, error!).WriteAsync(context);
            return;
        }
        var open = await requests.StartStreamAsync(job, context.Request.Query[RealtimeTokens.TokenParameter].ToString(), context.RequestAborted);
        if (open is null)
        {
            await new Rejection(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, PlatformCodes.InvalidToken,
                "This realtime URL has already been used: it is good for one connection. Submit a new realtime job.").WriteAsync(context);
            return;
        }
        using var streamEnded = new CancellationTokenSource();
        var renewing = RenewWhileOpenAsync(open, streamEnded.Token);
        try
        {
            await ServeAsync(context, model, open, settings!, query, pipecat);
        }
        finally
        {
            await streamEnded.CancelAsync();
            await renewing;
        }
    }

    private async Task ServeAsync(HttpContext context, ModelDescriptor model, PlatformJob job, StreamSettings settings, Dictionary<string, string> query, bool pipecat)
    {
        var metered = context.Features.GetRequiredFeature<AdmissionFeature>().Call!;
        using var supervised = supervisor.Watch(await context.WebSockets.AcceptWebSocketAsync());
        var socket = new RealtimeSocket(supervised, pipecat);
        var end = await backends.For(model).HandleStreamAsync(new StreamCall(model, settings, pipecat ? PipecatAudio : query, metered), socket, context.RequestAborted);
        if (end == StreamEnd.QuotaExhausted && !supervised.WasTerminated)
        {
            var cutOff = QuotaRejection.For(model.Name, metered.Refusal());
            await Rejection.SendErrorAndCloseAsync(socket, cutOff.CloseCode, cutOff.Code, cutOff.Detail, context.RequestAborted);
        }
        var accepted = metered.AcceptedMs;
        var stt = new JsonObject
        {
            ["text"] = string.Join(" ", socket.Utterances.Select(u => u["text"]?.ToString()).Where(t => !string.IsNullOrEmpty(t))),
            ["duration_ms"] = accepted,
            ["utterances"] = new JsonArray([.. socket.Utterances]),
        };
        var result = PlatformResults.Compose(job.Flags, stt, null, null, null);
        await requests.FinishStreamAsync(job.Id, accepted, result, socket.Error, CancellationToken.None);
    }

    /// <summary>Renews the open stream's lease on its job every third of it until the stream ends; a failed renewal is retried at the next tick.</summary>
    private async Task RenewWhileOpenAsync(PlatformJob open, CancellationToken streamEnded)
    {
        using var timer = new PeriodicTimer(requests.StreamLease / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(streamEnded))
            {
                try
                {
                    if (!await requests.RenewStreamAsync(open, streamEnded))
                    {
                        return; // no longer processing: ended, or taken for abandoned
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogRenewFailed(logger, ex, open.Id);
                }
            }
        }
        catch (OperationCanceledException) when (streamEnded.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lease of realtime job {JobId}'s stream failed; retried at the next tick")]
    private static partial void LogRenewFailed(ILogger logger, Exception ex, string jobId);
}
