using Tollgate.Identity;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admin;

/// <summary>What an Admin API call concerns, for the scope check of organization admin tokens (endpoint metadata).</summary>
internal enum AdminScopeKind
{
    /// <summary>Everything (organizations, admin tokens): operator tokens only; an organization admin is refused 403.</summary>
    Operator,

    /// <summary>The organization of the route's <c>{orgId}</c>: another organization's admin is refused 403.</summary>
    Organization,

    /// <summary>The key of the route's <c>{keyId}</c>: a key of another organization reads as not found (404), like a missing one.</summary>
    Key,

    /// <summary>The user of the route's <c>{userId}</c>: a user of another organization reads as not found (404).</summary>
    User,
}

internal sealed record AdminScope(AdminScopeKind Kind)
{
    public static readonly AdminScope Operator = new(AdminScopeKind.Operator);
    public static readonly AdminScope Organization = new(AdminScopeKind.Organization);
    public static readonly AdminScope Key = new(AdminScopeKind.Key);
    public static readonly AdminScope User = new(AdminScopeKind.User);
}

internal static class AdminScopeExtensions
{
    /// <summary>Declares what the call concerns; a call that declares nothing is for operators only.</summary>
    public static RouteHandlerBuilder Scoped(this RouteHandlerBuilder endpoint, AdminScope scope) => endpoint.WithMetadata(scope);

    /// <summary>The caller the admin filter admitted.</summary>
    public static AdminCaller AdminCaller(this HttpContext context) =>
        context.Items[typeof(AdminCaller)] as AdminCaller ?? throw new InvalidOperationException("No admin caller: the admin filter did not run.");
}

/// <summary>
/// Admin calls need <c>Authorization: Bearer &lt;admin token&gt;</c>: the operator token (configured or first-start) or
/// an admin token record. A wrong token is counted against its source address like a bad API key
/// (<see cref="AuthFailureThrottle"/>); a missing one is not. Then the token's scope is checked against what the call
/// concerns (<see cref="AdminScope"/>): an organization admin reaches only its own organization's calls.
/// </summary>
internal sealed class AdminTokenFilter(AdminTokenVerifier verifier, AuthFailureThrottle throttle, IIdentityStore store) : IEndpointFilter
{
    /// <summary>The Admin API's name in metrics.</summary>
    internal const string Surface = "Admin";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var authorization = http.Request.Headers.Authorization.ToString();
        var caller = await verifier.VerifyAsync(authorization, http.RequestAborted);
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            var refusal = new Rejection(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, ErrorCodes.InvalidAdminToken,
                "Missing, wrong or revoked admin token. Send Authorization: Bearer <token> (Tollgate:Admin:Token, the one printed on first start, or one created with POST /admin/tokens).");
            if (authorization.Length > 0)
            {
                refusal = await throttle.FailedAsync(http, Surface, refusal);
            }
            return refusal.ToResult(http);
        }
        http.Items[typeof(AdminCaller)] = caller;
        if (!caller.IsOperator && await OutOfScopeAsync(http, caller.OrgId!) is { } refused)
        {
            return refused;
        }
        return await next(context);
    }

    private async Task<IResult?> OutOfScopeAsync(HttpContext http, string orgId)
    {
        var scope = http.GetEndpoint()?.Metadata.GetMetadata<AdminScope>() ?? AdminScope.Operator;
        switch (scope.Kind)
        {
            case AdminScopeKind.Organization:
                var routeOrg = http.GetRouteValue("orgId") as string;
                return string.Equals(routeOrg, orgId, StringComparison.Ordinal) ? null : Forbidden(orgId, $"organization {routeOrg}");
            case AdminScopeKind.Key:
                var keyId = http.GetRouteValue("keyId") as string ?? "";
                var key = await store.GetKeyAsync(keyId, http.RequestAborted);
                return key is not null && string.Equals(key.OrgId, orgId, StringComparison.Ordinal) ? null : AdminResults.KeyNotFound(keyId);
            case AdminScopeKind.User:
                var userId = http.GetRouteValue("userId") as string ?? "";
                var user = await store.GetUserAsync(userId, http.RequestAborted);
                return user is not null && string.Equals(user.OrgId, orgId, StringComparison.Ordinal) ? null : AdminResults.UserNotFound(userId);
            default:
                return Forbidden(orgId, "every organization (an operator call)");
        }
    }

    private static IResult Forbidden(string orgId, string what) =>
        ApiError.Result(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden,
            $"This admin token administers organization {orgId} only; this call concerns {what}. Use an operator token.");
}
