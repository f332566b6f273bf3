using Microsoft.AspNetCore.Http.Features;
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
internal sealed class StreamingEndpoint(BackendRegistry backends, StreamSupervisor supervisor)
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
        var metered = context.Features.GetRequiredFeature<AdmissionFeature>().Call!;
        // The socket's close waits for the charge to be recorded and the lease freed (SettlementGate); the supervisor
        // ends a stream that idles or outlives the server's shutdown.
        using var socket = supervisor.Watch(await context.WebSockets.AcceptWebSocketAsync());
        var end = await backends.For(model).HandleStreamAsync(new StreamCall(model, settings!, query, metered), socket, context.RequestAborted);
        if (end == StreamEnd.QuotaExhausted && !socket.WasTerminated)
        {
            var cutOff = QuotaRejection.For(model.Name, metered.Refusal());
            await Rejection.SendErrorAndCloseAsync(socket, cutOff.CloseCode, cutOff.Code, cutOff.Detail, context.RequestAborted);
        }
    }
}
