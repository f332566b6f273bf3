using Tollgate.Identity;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 1: reads the surface's credential (DESIGN 1) and authenticates it. A credential that fails is counted against
/// the source address (<see cref="AuthFailureThrottle"/>); a missing one is not.
/// </summary>
internal sealed class AuthenticationStep(KeyAuthenticator authenticator, AuthFailureThrottle throttle, Platform.RealtimeTokens realtime) : IAdmissionStep
{
    public string Name => "tollgate.admission.authenticate";

    public ValueTask<Rejection?> AdmitAsync(HttpContext context, AdmissionFeature feature)
    {
        if (feature.Surface == Surface.Platform && feature.IsWebSocket)
        {
            return AdmitRealtimeAsync(context, feature);
        }
        if (Credentials.AccountMissing(context, feature))
        {
            // The Platform API needs both headers: without the account there is nothing to check the key against.
            return new ValueTask<Rejection?>(new Rejection(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, ErrorCodes.MissingApiKey,
                Credentials.MissingDetail(context, feature)));
        }
        var pending = authenticator.AuthenticateAsync(Credentials.Read(context, feature), context.RequestAborted);
        return pending.IsCompletedSuccessfully
            ? Judge(context, feature, pending.Result)
            : JudgeAsync(context, feature, pending);
    }

    /// <summary>The Platform API's realtime stream authenticates by the one-time token of its URL.</summary>
    private async ValueTask<Rejection?> AdmitRealtimeAsync(HttpContext context, AdmissionFeature feature)
    {
        var (principal, refusal, missing) = await realtime.AuthenticateAsync(context, context.RequestAborted);
        if (principal is not null)
        {
            feature.Principal = principal;
            return null;
        }
        return missing ? refusal : await throttle.FailedAsync(context, feature.Metadata.SurfaceName, refusal!);
    }

    private async ValueTask<Rejection?> JudgeAsync(HttpContext context, AdmissionFeature feature, ValueTask<AuthResult> pending) =>
        await Judge(context, feature, await pending.ConfigureAwait(false)).ConfigureAwait(false);

    private ValueTask<Rejection?> Judge(HttpContext context, AdmissionFeature feature, AuthResult result)
    {
        if (result.Succeeded && Credentials.BelongsToAccount(context, feature, result.Principal!))
        {
            feature.Principal = result.Principal;
            return default;
        }
        var refusal = Refusal(context, feature, result);
        feature.RefusedOrgId = result.Principal?.OrgId ?? result.RefusedOrgId;
        if (result.Status == AuthStatus.Missing)
        {
            return new ValueTask<Rejection?>(refusal);
        }
        var counted = throttle.FailedAsync(context, feature.Metadata.SurfaceName, refusal);
        return counted.IsCompletedSuccessfully ? new ValueTask<Rejection?>(counted.Result) : AwaitCountedAsync(counted);
    }

    private static async ValueTask<Rejection?> AwaitCountedAsync(ValueTask<Rejection> counted) => await counted.ConfigureAwait(false);

    private static Rejection Refusal(HttpContext context, AdmissionFeature feature, AuthResult result)
    {
        var (code, detail) = result.Status switch
        {
            AuthStatus.Ok => (ErrorCodes.AccountMismatch, "This API key does not belong to the account named by the accountuuid header."),
            AuthStatus.Missing => (ErrorCodes.MissingApiKey, Credentials.MissingDetail(context, feature)),
            AuthStatus.Malformed => (ErrorCodes.MalformedApiKey, "The API key is malformed (wrong length, characters or checksum); check it was copied whole."),
            AuthStatus.Revoked => (ErrorCodes.RevokedApiKey, "This API key has been revoked."),
            AuthStatus.Expired => (ErrorCodes.ExpiredApiKey, "This API key has expired: it was rotated and its overlap has ended; use the key that replaced it."),
            AuthStatus.UserDisabled => (ErrorCodes.UserDisabled, "This API key's user is disabled; the user's keys work again once an administrator enables the user."),
            _ => (ErrorCodes.UnknownApiKey, "This API key is not known."),
        };
        // The synthetic-voice-detection batch contract answers 403 for bad keys as well.
        var forbidden = feature.Model?.ForbiddenForBadKeys == true && !feature.IsWebSocket;
        return new Rejection(forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, code, detail);
    }
}
