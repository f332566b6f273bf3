using Tollgate.Identity;

namespace Tollgate.Server.Admission;

/// <summary>Each surface's credential style (DESIGN 1), read without allocating.</summary>
internal static class Credentials
{
    private const string ApiKeyScheme = "Api-Key ";

    /// <summary>The Platform API's organization header, checked against the key's organization.</summary>
    public const string AccountHeader = "accountuuid";

    /// <summary>The Platform API's key header.</summary>
    public const string PlatformKeyHeader = "apikey";

    public const string ModelsKeyHeader = "X-API-Key";

    public const string WebSocketKeyParameter = "api_key";

    /// <summary>The credential the request presents in its surface's style (empty when there is none).</summary>
    public static ReadOnlySpan<char> Read(HttpContext context, AdmissionFeature feature)
    {
        var request = context.Request;
        switch (feature.Surface)
        {
            case Surface.Dubbing:
                ReadOnlySpan<char> authorization = request.Headers.Authorization.ToString();
                return authorization.StartsWith(ApiKeyScheme, StringComparison.OrdinalIgnoreCase)
                    ? authorization[ApiKeyScheme.Length..].Trim()
                    : [];
            case Surface.Platform:
                return feature.IsWebSocket ? [] : request.Headers[PlatformKeyHeader].ToString().AsSpan().Trim();
            default:
                return feature.IsWebSocket
                    ? request.Query[WebSocketKeyParameter].ToString()
                    : request.Headers[ModelsKeyHeader].ToString().AsSpan().Trim();
        }
    }

    /// <summary>A Platform API request without its <c>accountuuid</c> header (a realtime stream authenticates by its token instead).</summary>
    public static bool AccountMissing(HttpContext context, AdmissionFeature feature) =>
        feature.Surface == Surface.Platform && !feature.IsWebSocket && context.Request.Headers[AccountHeader].ToString().AsSpan().Trim().IsEmpty;

    /// <summary>The Platform API names the account too: a key of another organization is refused.</summary>
    public static bool BelongsToAccount(HttpContext context, AdmissionFeature feature, Principal principal)
    {
        if (feature.Surface != Surface.Platform)
        {
            return true;
        }
        var account = context.Request.Headers[AccountHeader].ToString().AsSpan().Trim();
        return account.Equals(principal.OrgId, StringComparison.Ordinal);
    }

    public static string MissingDetail(HttpContext context, AdmissionFeature feature) => feature switch
    {
        { Surface: Surface.Dubbing } => "Missing API key: send it as Authorization: Api-Key <key>.",
        { Surface: Surface.Platform } => "Missing credentials: send the headers accountuuid: <organization id> and apikey: <key>.",
        { IsWebSocket: true } => "Missing API key: pass it as the api_key query parameter.",
        _ => "Missing API key: send it in the X-API-Key header.",
    };
}
