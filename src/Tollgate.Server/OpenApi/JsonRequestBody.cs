using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tollgate.Server.OpenApi;

/// <summary>
/// The JSON body an endpoint reads itself (strictly, with its own 400/413/415 answers), for the OpenAPI document only:
/// unlike <c>Accepts&lt;T&gt;</c> it does not make routing refuse other content types before the endpoint can say why.
/// </summary>
internal sealed record JsonRequestBody(Type Type, bool Required = true)
{
    public static async Task ApplyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<JsonRequestBody>().LastOrDefault() is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = body.Required,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(body.Type, null, ct) },
                },
            };
        }
    }
}

internal static class JsonRequestBodyExtensions
{
    /// <summary>Documents that the endpoint takes a <typeparamref name="T"/> as <c>application/json</c> (optional unless <paramref name="required"/>).</summary>
    public static RouteHandlerBuilder AcceptsJson<T>(this RouteHandlerBuilder endpoint, bool required = true) =>
        endpoint.WithMetadata(new JsonRequestBody(typeof(T), required));
}
