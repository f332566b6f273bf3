using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tollgate.Server.Hosting;

/// <summary>Describes the server and its credentials in the OpenAPI document.</summary>
internal sealed class TollgateDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Tollgate",
            Version = "v1",
            Description = """
                The front door of the voice-AI Models API: API-key authentication, concurrency limits, monthly audio-hour
                quotas and metering. Models API calls take `X-API-Key: <key>` (WebSocket: `?api_key=<key>`); Admin API calls
                take `Authorization: Bearer <admin token>`. Errors are `{"detail": "...", "code": "..."}`.
                Streaming (WebSocket) channels are documented by the AsyncAPI contracts in `contracts/modulate/asyncapi`.
                Models without a configured upstream are served by the built-in reference backend: real duration probing and
                energy segmentation, but no speech recognition or trained classifier (transcripts are empty, labels neutral).
                """,
        };
        return Task.CompletedTask;
    }
}
