using Tollgate.Models;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Models;

/// <summary>
/// A model called the way another kind is: a batch model opened as a WebSocket, or a streaming model sent a POST.
/// Answered before admission (no key is checked, nothing is counted: like any wrong method) with 400
/// <c>wrong_model_kind</c> over HTTP, or an <c>error</c> message and close 1003 over a WebSocket, naming the endpoint
/// to use instead. A plain GET of a batch model stays routing's 405.
/// </summary>
internal static class WrongModelKind
{
    /// <summary>Maps, beside each model's own endpoint, the method of the other kind.</summary>
    public static void MapWrongKind(this RouteGroupBuilder api, ModelDescriptor model)
    {
        var refusal = For(model);
        if (model.Kind == ModelKind.Batch)
        {
            api.MapGet("/" + model.Name, (HttpContext context) =>
            {
                if (context.WebSockets.IsWebSocketRequest)
                {
                    return refusal.WriteAsync(context);
                }
                // What routing answers for a method the path does not take (shaped by ErrorShapes).
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                context.Response.Headers.Allow = "POST";
                return Task.CompletedTask;
            }).ExcludeFromDescription();
        }
        else
        {
            api.MapPost("/" + model.Name, (HttpContext context) => refusal.WriteAsync(context)).DisableAntiforgery().ExcludeFromDescription();
        }
    }

    internal static Rejection For(ModelDescriptor model)
    {
        var detail = model.Kind == ModelKind.Batch
            ? $"{model.Name} is a batch model: POST the file to /api/{model.Name} (multipart field upload_file)."
              + (Counterpart(model, "-batch", "-streaming") is { } stream ? $" To stream audio, open the WebSocket /api/{stream}." : "")
            : $"{model.Name} is a streaming model: open a WebSocket to /api/{model.Name}?api_key=<key>."
              + (Counterpart(model, "-streaming", "-batch") is { } batch ? $" To send a file, POST it to /api/{batch}." : "");
        return new Rejection(StatusCodes.Status400BadRequest, CloseCodes.InvalidParameters, ErrorCodes.WrongModelKind, detail);
    }

    /// <summary>The model of the other kind with the same analysis (velma-2-stt-batch ↔ velma-2-stt-streaming), if any.</summary>
    private static string? Counterpart(ModelDescriptor model, string from, string to)
    {
        var at = model.Name.LastIndexOf(from, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }
        var name = string.Concat(model.Name.AsSpan(0, at), to, model.Name.AsSpan(at + from.Length));
        return ModelCatalog.TryGet(name, out var other) && other.Kind != model.Kind ? other.Name : null;
    }
}
