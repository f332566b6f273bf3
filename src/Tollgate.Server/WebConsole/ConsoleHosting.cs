using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Tollgate.Server.Hosting;
using Tollgate.Server.WebConsole.Components;

namespace Tollgate.Server.WebConsole;

/// <summary>
/// The web console at <c>/console</c>: Razor components rendered on the server (static SSR, no WebAssembly, no
/// circuit), signed in with an admin token, a cookie session, antiforgery on every form. It calls the same services the
/// Admin API calls; it adds no rule of its own.
/// </summary>
internal static class ConsoleHosting
{
    public static IServiceCollection AddTollgateConsole(this IServiceCollection services)
    {
        // Only the console has an authentication scheme; without this, the one scheme would become every request's
        // default and each API call would read the console's cookie for nothing.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddRazorComponents();
        services.AddSingleton<ConsoleTicketStore>();
        services.AddAuthentication().AddCookie(ConsoleAuth.Scheme, ConsoleAuth.Configure);
        services.AddOptions<CookieAuthenticationOptions>(ConsoleAuth.Scheme)
            .Configure<ConsoleTicketStore>((o, sessions) => o.SessionStore = sessions);
        services.AddAuthorizationBuilder().AddPolicy(ConsoleAuth.Policy, p => p.AddAuthenticationSchemes(ConsoleAuth.Scheme).RequireAuthenticatedUser());
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "tollgate_console_csrf";
            o.Cookie.Path = ConsolePaths.Root;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        // The keys that sign the session and antiforgery cookies live in the data directory: a restart keeps the forms
        // that are open valid (sessions themselves are in memory, see ConsoleTicketStore).
        services.AddDataProtection().SetApplicationName("Tollgate");
        services.AddOptions<KeyManagementOptions>().Configure<DataDirectory, ILoggerFactory>((o, data, loggers) =>
            o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(data.Path, "console-keys")), loggers));
        return services;
    }

    /// <summary>
    /// After routing, for the console's addresses only: the session, the policy and antiforgery. Every other request
    /// skips them: the authentication middleware alone resolves a scoped service, which costs an API call its own DI
    /// scope (about 1 KB) for a cookie it never reads.
    /// </summary>
    public static IApplicationBuilder UseTollgateConsole(this IApplicationBuilder app)
    {
        app.UseWhen(static http => http.Request.Path.StartsWithSegments(ConsolePaths.Root), static console =>
        {
            console.UseAuthentication();
            console.UseAuthorization();
            console.UseAntiforgery();
        });
        // The branch's builder records these on its own copy of the properties, so WebApplication would still add all
        // three in front of every request; these are the marks the three Use… calls leave, set where it looks for them.
        foreach (var mark in (string[])["__AuthenticationMiddlewareSet", "__AuthorizationMiddlewareSet", "__AntiforgeryMiddlewareSet"])
        {
            app.Properties[mark] = true;
        }
        return app;
    }

    public static IEndpointRouteBuilder MapTollgateConsole(this IEndpointRouteBuilder app)
    {
        app.MapRazorComponents<ConsoleApp>();
        app.MapGet(ConsolePaths.Root, (HttpContext http) => Results.Redirect(ConsoleUser.From(http.User) is { OrgId: { } org } ? ConsolePaths.Org(org) : ConsolePaths.Orgs))
            .RequireAuthorization(ConsoleAuth.Policy).ExcludeFromDescription();
        // A plain form in the layout posts here; the antiforgery token is checked as for every console form.
        app.MapPost(ConsolePaths.SignOut, async (HttpContext http, IAntiforgery antiforgery) =>
        {
            // The form's token was issued to the signed-in user: read the session first, so the check compares like with like.
            if ((await http.AuthenticateAsync(ConsoleAuth.Scheme)).Principal is { } principal)
            {
                http.User = principal;
            }
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Text("The sign-out form expired or did not come from this console. Go back, reload the page and sign out again.",
                    "text/plain", statusCode: StatusCodes.Status400BadRequest);
            }
            // Removes the session from the server's store too (ConsoleTicketStore): a copy of the cookie is no longer worth anything.
            await http.SignOutAsync(ConsoleAuth.Scheme);
            return Results.Redirect(ConsolePaths.SignIn + "?signedOut=1");
        }).DisableAntiforgery().ExcludeFromDescription();
        ConsoleAssets.Map(app);
        ConsoleLive.Map(app);
        return app;
    }
}
