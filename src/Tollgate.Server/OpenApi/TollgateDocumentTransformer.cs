using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Tollgate.Models;

namespace Tollgate.Server.OpenApi;

/// <summary>Describes the server, its credentials (one security scheme per surface) and where the streaming channels are documented.</summary>
internal sealed class TollgateDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var channels = string.Join("\n", ModelCatalog.All.Where(m => m.Kind == ModelKind.Streaming)
            .Select(m => $"- `{m.Name}`: [{ContractMerge.AsyncApiPath(m.Name)}]({ContractMerge.AsyncApiPath(m.Name)})"));
        document.Info = new OpenApiInfo
        {
            Title = "Tollgate",
            Version = "v1",
            Description = $"""
                The front door of the voice-AI APIs: API-key authentication, concurrency limits, monthly audio-hour
                quotas, request-rate windows and metering. Models API calls take `X-API-Key: <key>` (WebSocket:
                `?api_key=<key>`); Dubbing API calls take `Authorization: Api-Key <key>`; Admin API calls take
                `Authorization: Bearer <admin token>`. Errors are `{"{"}"detail": "...", "code": "..."{"}"}`.
                The batch operations are described exactly as the published contracts describe them.

                The streaming (WebSocket) channels are described by their AsyncAPI documents:
                {channels}

                Models without a configured upstream are served by the built-in reference backend: real duration probing and
                energy segmentation, but no speech recognition or trained classifier (transcripts are empty, labels neutral).
                """,
        };
        SecuritySchemes.AddTo(document);
        return Task.CompletedTask;
    }
}
