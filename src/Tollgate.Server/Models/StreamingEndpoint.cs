using Tollgate.Metering;
using Tollgate.Models;
using Tollgate.Backends.Reference;
using Tollgate.Server.Admission;
using Tollgate.Server.Backends;
using Tollgate.Server.Http;

namespace Tollgate.Server.Models;

/// <summary>
/// <c>GET /api/{model}</c> upgraded to a WebSocket for the streaming models: validates the query parameters
/// (1003 with the contract's message when they are wrong), then hands the socket to the model's backend.
/// </summary>
internal sealed class StreamingEndpoint(BackendRegistry backends, AudioQuota quota)
{
    public async Task HandleAsync(HttpContext context, ModelDescriptor model)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiError.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest,
                $"{model.Name} is a WebSocket channel: connect with ws:// (or wss://) and ?api_key=<key>.");
            return;
        }
        var query = context.Request.Query
            .Where(p => p.Key != "api_key")
            .ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        if (!StreamSettings.TryParse(model, query, out var settings, out var error))
        {
            await new Rejection(StatusCodes.Status400BadRequest, CloseCodes.InvalidParameters, ErrorCodes.InvalidParameter, error!).WriteAsync(context);
            return;
        }
        var admission = context.Features.Get<AdmissionFeature>()
            ?? throw new InvalidOperationException("Streaming endpoints are only reached through admission.");
        var meter = new StreamMeter(quota, admission.Principal!, model.Name, admission.Limits!, admission.RequestId!);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var charged = 0L;
        try
        {
            charged = (await backends.For(model).HandleStreamAsync(new StreamCall(model, settings!, query, meter), socket, context.RequestAborted)).ChargedMs;
        }
        finally
        {
            // Whatever happened, the audio that was accepted is charged, once.
            await meter.SettleAsync(Math.Max(charged, 0));
        }
    }
}
