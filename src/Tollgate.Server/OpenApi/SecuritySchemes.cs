using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Tollgate.Server.Admission;

namespace Tollgate.Server.OpenApi;

/// <summary>Marks the Admin API's endpoints, whose credential is the admin token.</summary>
internal sealed record AdminApiMetadata
{
    public static readonly AdminApiMetadata Instance = new();
}

/// <summary>
/// The credential of each surface as an OpenAPI security scheme, and the operation transformer that puts the right
/// one on every operation from its endpoint metadata (so <c>/docs</c> can send a key or the admin token).
/// </summary>
internal static class SecuritySchemes
{
    public const string ModelsKey = "ApiKeyAuth";
    public const string ModelsQueryKey = "ApiKeyQuery";
    public const string DubbingKey = "DubbingApiKey";
    public const string AdminToken = "AdminToken";

    // The names the Platform API contract gives its two headers; a call sends both.
    public const string PlatformAccount = "AccountUuid";
    public const string PlatformKey = "ApiKey";
    public const string PlatformRealtimeToken = "PlatformRealtimeToken";

    public static IReadOnlyList<(string Name, OpenApiSecurityScheme Scheme)> All { get; } =
    [
        // The name the published Models API contracts give their X-API-Key scheme.
        (ModelsKey, new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-API-Key",
            Description = "Models API: the API key in the X-API-Key header." }),
        (ModelsQueryKey, new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Query, Name = "api_key",
            Description = "Models API streaming channels: the API key as the api_key query parameter of the WebSocket URL." }),
        (DubbingKey, new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "Authorization",
            Description = "Dubbing API: the header value is `Api-Key <key>` (the word Api-Key, a space, then the key)." }),
        (PlatformAccount, new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "accountuuid",
            Description = "Platform API: the organization's id, sent together with apikey." }),
        (PlatformKey, new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "apikey",
            Description = "Platform API: an API key of the organization named by accountuuid." }),
        (PlatformRealtimeToken, new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Query, Name = "token",
            Description = "Platform API realtime stream: the single-use token of the job's realtime_url (60 s), never the API key." }),
        (AdminToken, new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer",
            Description = "Admin API: the admin token (printed at first start, or Tollgate__Admin__Token) as a bearer token." }),
    ];

    /// <summary>The schemes an endpoint's calls take together, from its metadata; none for the open endpoints (the docs themselves).</summary>
    public static string[] For(IList<object> metadata) =>
        metadata.OfType<AdminApiMetadata>().Any() ? [AdminToken] : metadata.OfType<AdmissionMetadata>().LastOrDefault() switch
        {
            { Surface: Surface.Models, Metered: true, Model.Kind: Tollgate.Models.ModelKind.Streaming } => [ModelsQueryKey],
            { Surface: Surface.Models } => [ModelsKey],
            { Surface: Surface.Dubbing } => [DubbingKey],
            { Surface: Surface.Platform, Metered: true } => [PlatformRealtimeToken],
            { Surface: Surface.Platform } => [PlatformAccount, PlatformKey],
            _ => [],
        };

    /// <summary>Registers every scheme in <paramref name="document"/>'s components (once).</summary>
    public static void AddTo(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        foreach (var (name, scheme) in All)
        {
            document.Components.SecuritySchemes.TryAdd(name, scheme);
        }
    }

    public static Task ApplyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (For(context.Description.ActionDescriptor.EndpointMetadata) is { Length: > 0 } schemes && context.Document is { } document)
        {
            AddTo(document);
            var requirement = new OpenApiSecurityRequirement();
            foreach (var scheme in schemes)
            {
                requirement[new OpenApiSecuritySchemeReference(scheme, document)] = [];
            }
            operation.Security = [requirement];
        }
        return Task.CompletedTask;
    }
}
