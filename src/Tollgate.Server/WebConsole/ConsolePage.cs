using System.Globalization;
using Microsoft.AspNetCore.Components;
using Tollgate.Identity;

namespace Tollgate.Server.WebConsole;

/// <summary>
/// What every signed-in page shares: the request, the signed-in user, and the organization check. An organization
/// admin who asks for another organization's page gets 403 from the server (the links are not merely hidden).
/// </summary>
public abstract class ConsolePage : ComponentBase
{
    [CascadingParameter] public HttpContext? HttpContext { get; set; }

    [Inject] private protected IIdentityStore Store { get; set; } = default!;

    [Inject] private protected TimeProvider Time { get; set; } = default!;

    [Inject] private protected NavigationManager Navigation { get; set; } = default!;

    private protected ConsoleUser User => ConsoleUser.From(HttpContext?.User) ?? throw new InvalidOperationException("The console policy let an anonymous request through.");

    /// <summary>Set when the page cannot be shown: the message, with the status the response was given.</summary>
    private protected string? Refusal { get; private set; }

    private protected bool IsPost => HttpMethods.IsPost(HttpContext!.Request.Method);

    /// <summary>Refuses the page (403) unless the user administers <paramref name="orgId"/>; 404 when there is no such organization.</summary>
    private protected async Task<Organization?> AuthorizeOrgAsync(string orgId)
    {
        if (!User.MaySee(orgId))
        {
            Refuse(StatusCodes.Status403Forbidden, $"You administer organization {User.OrgId} only; this page belongs to another organization.");
            return null;
        }
        var org = await Store.GetOrganizationAsync(orgId);
        if (org is null)
        {
            Refuse(StatusCodes.Status404NotFound, $"No organization {orgId}.");
        }
        return org;
    }

    private protected void Refuse(int status, string message)
    {
        Refusal = message;
        HttpContext!.Response.StatusCode = status;
    }

    private protected string Form(string name) => HttpContext!.Request.HasFormContentType ? HttpContext.Request.Form[name].ToString() : "";

    private protected static string When(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "never";

    private protected static string Hours(double hours) => hours.ToString("0.####", CultureInfo.InvariantCulture);
}
