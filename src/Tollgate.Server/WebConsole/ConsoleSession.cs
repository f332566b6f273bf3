using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Caching.Memory;
using Tollgate.Server.Admin;

namespace Tollgate.Server.WebConsole;

/// <summary>
/// Who is signed in to the console: the operator (every organization) or the admin of one organization. It stands for
/// an admin token the <see cref="AdminTokenVerifier"/> accepted; the session keeps only the token's SHA-256, and asks the
/// verifier again on every request (<see cref="ConsoleAuth.ValidateAsync"/>), so revoking the token ends the session.
/// </summary>
internal sealed record ConsoleUser(string? OrgId, string? TokenId)
{
    public bool IsOperator => OrgId is null;

    /// <summary>Whether this user may see <paramref name="orgId"/>: the operator every one, an organization admin only its own.</summary>
    public bool MaySee(string? orgId) => IsOperator || string.Equals(OrgId, orgId, StringComparison.Ordinal);

    public string Label => IsOperator ? "Operator" : $"Admin of {OrgId}";

    public static ConsoleUser? From(ClaimsPrincipal? principal) =>
        principal?.Identity is { IsAuthenticated: true, AuthenticationType: ConsoleAuth.Scheme }
            ? new ConsoleUser(NullIfEmpty(principal.FindFirstValue(ConsoleAuth.OrgClaim)), NullIfEmpty(principal.FindFirstValue(ConsoleAuth.TokenIdClaim)))
            : null;

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>The console's cookie session: scheme, claims, cookie flags, and the check made on every request.</summary>
internal static class ConsoleAuth
{
    public const string Scheme = "TollgateConsole";
    public const string Policy = "TollgateConsole";
    public const string CookieName = "tollgate_console";
    public const string DigestClaim = "tollgate:token_sha256";
    public const string OrgClaim = "tollgate:org";
    public const string TokenIdClaim = "tollgate:token_id";

    /// <summary>How long a session lasts without use (it slides on use), and at most since sign-in.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);

    public static void Configure(CookieAuthenticationOptions o)
    {
        o.Cookie.Name = CookieName;
        o.Cookie.Path = ConsolePaths.Root;
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Strict;
        // Secure whenever the console is reached over HTTPS (behind a TLS proxy, with forwarded headers applied).
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.LoginPath = ConsolePaths.SignIn;
        o.LogoutPath = ConsolePaths.SignOut;
        o.AccessDeniedPath = ConsolePaths.SignIn;
        o.ReturnUrlParameter = "returnUrl";
        o.ExpireTimeSpan = IdleTimeout;
        o.SlidingExpiration = true;
        o.Events.OnValidatePrincipal = ValidateAsync;
        // The JSON endpoint polled by the page answers 401, not a redirect to an HTML page.
        o.Events.OnRedirectToLogin = context =>
        {
            if (context.Request.Path.StartsWithSegments(ConsolePaths.Root + "/api"))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            }
            context.Response.Redirect(context.RedirectUri);
            return Task.CompletedTask;
        };
    }

    public static ClaimsPrincipal Principal(AdminCaller caller, byte[] digest) =>
        new(new ClaimsIdentity(
        [
            new Claim(DigestClaim, Convert.ToBase64String(digest)),
            new Claim(OrgClaim, caller.OrgId ?? ""),
            new Claim(TokenIdClaim, caller.TokenId ?? ""),
        ], Scheme));

    /// <summary>
    /// Every request of a session: the token it was opened with must still be accepted, for the same organization.
    /// A revoked organization-admin token, or an operator token replaced in configuration, ends the session here.
    /// </summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        var digestText = principal?.FindFirstValue(DigestClaim);
        var user = ConsoleUser.From(principal);
        AdminCaller? caller = null;
        if (digestText is not null && user is not null)
        {
            var verifier = context.HttpContext.RequestServices.GetRequiredService<AdminTokenVerifier>();
            caller = await verifier.VerifyDigestAsync(Convert.FromBase64String(digestText), context.HttpContext.RequestAborted);
        }
        if (caller is null || !string.Equals(caller.OrgId, user!.OrgId, StringComparison.Ordinal))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
        }
    }
}

/// <summary>
/// The sessions themselves, on the server: the cookie carries only a random session key, so signing out (which removes
/// the entry) ends the session even for a copy of the cookie. Kept in this node's memory: a restart signs everyone out,
/// and with several nodes a session lives on the node that opened it (route the console to one node, or sticky).
/// </summary>
internal sealed class ConsoleTicketStore(TimeProvider time) : ITicketStore, IDisposable
{
    private const string Prefix = "tollgate-console-session:";

    /// <summary>At most this many sessions at once: past it, the oldest are dropped (their users sign in again).</summary>
    public const int MaxSessions = 100_000;

    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = MaxSessions });

    public void Dispose() => cache.Dispose();

    public Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        Put(key, ticket);
        return Task.FromResult(key);
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        Put(key, ticket);
        return Task.CompletedTask;
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) =>
        Task.FromResult(cache.TryGetValue(Prefix + key, out AuthenticationTicket? ticket) ? ticket : null);

    public Task RemoveAsync(string key)
    {
        cache.Remove(Prefix + key);
        return Task.CompletedTask;
    }

    private void Put(string key, AuthenticationTicket ticket)
    {
        var expires = ticket.Properties.ExpiresUtc ?? time.GetUtcNow() + ConsoleAuth.IdleTimeout;
        cache.Set(Prefix + key, ticket, new MemoryCacheEntryOptions { AbsoluteExpiration = expires, Size = 1 });
    }
}

/// <summary>The console's addresses.</summary>
internal static class ConsolePaths
{
    public const string Root = "/console";
    public const string SignIn = "/console/sign-in";
    public const string SignOut = "/console/sign-out";
    public const string Orgs = "/console/orgs";

    public static string Org(string orgId) => $"{Orgs}/{Uri.EscapeDataString(orgId)}";

    public static string NewKey(string orgId) => $"{Org(orgId)}/keys/new";

    public static string Usage(string orgId, string? month = null) => $"{Org(orgId)}/usage" + (month is null ? "" : "?month=" + Uri.EscapeDataString(month));

    public static string Key(string keyId) => $"{Root}/keys/{Uri.EscapeDataString(keyId)}";

    public static string RevokeKey(string keyId) => $"{Key(keyId)}/revoke";

    public static string Live(string orgId) => $"{Root}/api/orgs/{Uri.EscapeDataString(orgId)}/live";
}
