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

    /// <summary>
    /// Why no key was found, in this surface's terms: what it expects, and — when the request carried a credential in
    /// another surface's style (an <c>X-API-Key</c> header sent to the Dubbing API, say) — what was sent instead. Only
    /// header and parameter names are repeated, never their values.
    /// </summary>
    public static string MissingDetail(HttpContext context, AdmissionFeature feature)
    {
        var (surface, expected) = feature switch
        {
            { Surface: Surface.Dubbing } => ("the Dubbing API", "send it as Authorization: Api-Key <key>"),
            { Surface: Surface.Platform } => ("the Platform API", "send the headers accountuuid: <organization id> and apikey: <key>"),
            { IsWebSocket: true } => ("a Models API stream", "pass it as the api_key query parameter"),
            _ => ("the Models API", "send it in the X-API-Key header"),
        };
        var missing = feature.Surface == Surface.Platform ? "Missing credentials" : "Missing API key";
        return OtherStyle(context.Request, feature) is { } sent
            ? $"{missing} for {surface}: {sent} was sent, but {surface} does not read it; {expected}."
            : $"{missing}: {expected}.";
    }

    /// <summary>A credential in another surface's style that <paramref name="request"/> carries, described by its name only.</summary>
    private static string? OtherStyle(HttpRequest request, AdmissionFeature feature)
    {
        var headers = request.Headers;
        var authorization = headers.Authorization.ToString().AsSpan().TrimStart();
        var surface = feature.Surface;
        if (surface != Surface.Models || feature.IsWebSocket)
        {
            if (headers.ContainsKey(ModelsKeyHeader))
            {
                return surface == Surface.Models
                    ? "an X-API-Key header (the Models API's style for HTTP requests; a WebSocket takes the key in its URL, as browsers cannot set its headers)"
                    : "an X-API-Key header (the Models API's style)";
            }
        }
        if (surface != Surface.Dubbing && authorization.StartsWith(ApiKeyScheme, StringComparison.OrdinalIgnoreCase))
        {
            return "an Authorization: Api-Key header (the Dubbing API's style)";
        }
        if (!authorization.IsEmpty && !authorization.StartsWith(ApiKeyScheme, StringComparison.OrdinalIgnoreCase))
        {
            var scheme = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "Bearer"
                : authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) ? "Basic"
                : null;
            return scheme is null
                ? "an Authorization header without a scheme this server knows"
                : $"an Authorization: {scheme} header (API keys are not bearer tokens; the admin token is, on /admin only)";
        }
        if (surface != Surface.Platform && headers.ContainsKey(PlatformKeyHeader))
        {
            return "an apikey header (the Platform API's style)";
        }
        if (!feature.IsWebSocket && request.Query.ContainsKey(WebSocketKeyParameter))
        {
            return "an api_key query parameter (only Models API WebSocket streams take the key in the URL)";
        }
        return null;
    }
}
