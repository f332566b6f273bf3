using Tollgate.Identity;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 1 (with the classification it needs): finds the surface and model of the request, reads that
/// surface's credential and authenticates it. Requests outside the public surfaces pass straight through.
/// </summary>
internal sealed class AuthenticationStep(RequestDelegate next, KeyAuthenticator authenticator)
{
    public Task Invoke(HttpContext context)
    {
        if (!SurfaceResolver.TryResolve(context.Request.Path, out var surface, out var model, out var metered))
        {
            return next(context);
        }
        var feature = new AdmissionFeature
        {
            Surface = surface,
            Model = model,
            Metered = metered,
            IsWebSocket = context.WebSockets.IsWebSocketRequest,
            Operation = SurfaceResolver.Classify(context.Request.Method),
        };
        context.Features.Set(feature);
        var presented = Credential(context, feature);
        var pending = authenticator.AuthenticateAsync(presented, context.RequestAborted);
        return pending.IsCompletedSuccessfully ? Continue(context, feature, pending.Result) : ContinueAsync(context, feature, pending);
    }

    /// <summary>Each surface's credential style (DESIGN 1).</summary>
    private static string? Credential(HttpContext context, AdmissionFeature feature)
    {
        switch (feature.Surface)
        {
            case Surface.Dubbing:
                var authorization = context.Request.Headers.Authorization.ToString();
                const string scheme = "Api-Key ";
                return authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? authorization[scheme.Length..].Trim() : null;
            default:
                return feature.IsWebSocket ? context.Request.Query["api_key"].ToString() : context.Request.Headers["X-API-Key"].ToString();
        }
    }

    private async Task ContinueAsync(HttpContext context, AdmissionFeature feature, ValueTask<AuthResult> pending) =>
        await Continue(context, feature, await pending);

    private Task Continue(HttpContext context, AdmissionFeature feature, AuthResult result)
    {
        if (result.Succeeded)
        {
            feature.Principal = result.Principal;
            return next(context);
        }
        return Reject(feature, result.Status).WriteAsync(context);
    }

    private static Rejection Reject(AdmissionFeature feature, AuthStatus status)
    {
        var (code, detail) = status switch
        {
            AuthStatus.Missing => (ErrorCodes.MissingApiKey, feature switch
            {
                { Surface: Surface.Dubbing } => "Missing API key: send it as Authorization: Api-Key <key>.",
                { IsWebSocket: true } => "Missing API key: pass it as the api_key query parameter.",
                _ => "Missing API key: send it in the X-API-Key header.",
            }),
            AuthStatus.Malformed => (ErrorCodes.MalformedApiKey, "The API key is malformed (wrong length, characters or checksum); check it was copied whole."),
            AuthStatus.Revoked => (ErrorCodes.RevokedApiKey, "This API key has been revoked."),
            _ => (ErrorCodes.UnknownApiKey, "This API key is not known."),
        };
        // The synthetic-voice-detection batch contract answers 403 for bad keys as well.
        var status403 = feature.Model?.ForbiddenForBadKeys == true && !feature.IsWebSocket;
        return new Rejection(status403 ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, code, detail);
    }
}
