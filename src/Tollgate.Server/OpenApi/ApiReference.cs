using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using Tollgate.Models;

namespace Tollgate.Server.OpenApi;

/// <summary>
/// The API reference: the OpenAPI document at <c>/openapi/v1.json</c> (generated from the endpoints, then made as
/// precise as the published contracts by <see cref="ContractMerge"/>), each streaming channel's AsyncAPI document at
/// <c>/asyncapi/{model}.yaml</c>, and the interactive reference at <c>/docs</c>.
/// </summary>
internal static class ApiReference
{
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddApiReference(this IServiceCollection services)
    {
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer<TollgateDocumentTransformer>();
            o.AddOperationTransformer(SecuritySchemes.ApplyAsync);
            o.AddOperationTransformer(JsonRequestBody.ApplyAsync);
        });
        services.AddSingleton<PublishedDocument>();
        return services;
    }

    public static IEndpointRouteBuilder MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapGet(DocumentPath, async (PublishedDocument published, CancellationToken ct) =>
            TypedResults.Bytes(await published.GetAsync(ct), "application/json;charset=utf-8")).ExcludeFromDescription();
        foreach (var (model, contract) in Contracts.AsyncApiByModel)
        {
            var yaml = Encoding.UTF8.GetBytes(contract.Yaml);
            app.MapGet(ContractMerge.AsyncApiPath(model), () => TypedResults.Bytes(yaml, "application/yaml;charset=utf-8")).ExcludeFromDescription();
        }
        app.MapScalarApiReference("/docs", o => o.WithTitle("Tollgate API").WithOpenApiRoutePattern(DocumentPath));
        app.MapGet("/", () => TypedResults.Redirect("/docs")).ExcludeFromDescription();
        return app;
    }
}

/// <summary>The merged OpenAPI document, built once on first request (a failure is not kept: the next request tries again).</summary>
internal sealed class PublishedDocument([FromKeyedServices("v1")] IOpenApiDocumentProvider provider)
{
    private byte[]? _json;

    public async Task<byte[]> GetAsync(CancellationToken ct)
    {
        if (_json is { } built)
        {
            return built;
        }
        var generated = await provider.GetOpenApiDocumentAsync(ct);
        using var text = new StringWriter();
        generated.SerializeAsV31(new OpenApiJsonWriter(text));
        var document = JsonNode.Parse(text.ToString())!.AsObject();
        ContractMerge.Apply(document, Contracts.OpenApi, Contracts.AsyncApiByModel);
        return _json = Encoding.UTF8.GetBytes(document.ToJsonString());
    }
}
