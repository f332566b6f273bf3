using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Tollgate.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Tollgate.Console;

/// <summary>Who may see what, and what a session is: sign-in refusals, organization scope, CSRF, cookie flags, sign-out.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SessionTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task A_wrong_token_is_refused_with_a_clear_message_and_opens_no_session()
    {
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, fixture.Server);
        var page = await context.NewPageAsync();
        await page.GotoAsync("console/sign-in");
        await page.GetByLabel("Admin token").FillAsync("tga_not-the-token");
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(401, response.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That token is wrong, unknown or revoked. Check it and try again.");
        await Expect(page.GetByLabel("Admin token")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "tollgate_console");
        await page.GotoAsync("console/orgs");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
    }

    [Fact]
    public async Task Repeated_failures_from_one_address_are_slowed_down()
    {
        // Its own server, so the low limit slows only this test's sign-ins.
        await using var server = await TollgateServer.StartAsync(new Dictionary<string, string?> { ["Tollgate:AuthThrottle:Limit"] = "2" });
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var page = await context.NewPageAsync();
        await page.GotoAsync("console/sign-in");
        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            await page.GetByLabel("Admin token").FillAsync("wrong-" + i);
            var response = await page.RunAndWaitForResponseAsync(
                () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Request.Method == "POST");
            statuses.Add(response.Status);
        }
        Assert.Equal([401, 401, 429], statuses);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Too many failed sign-ins from this address");
    }

    [Fact]
    public async Task An_organization_admin_sees_only_that_organization_and_loses_the_session_when_the_token_is_revoked()
    {
        var server = fixture.Server;
        var mine = await server.CreateKeyAsync("velma-2-stt-batch");
        var theirs = await server.CreateKeyAsync("velma-2-stt-batch");

        // The operator issues the organization admin token in the console; it is shown once.
        await using var operatorContext = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var operatorPage = await ConsoleSteps.SignInAsync(operatorContext, TollgateServer.AdminToken);
        await operatorPage.GotoAsync($"console/orgs/{mine.OrgId}");
        await operatorPage.GetByLabel("Label (optional)").FillAsync("acme admin");
        await operatorPage.GetByRole(AriaRole.Button, new() { Name = "Issue an admin token" }).ClickAsync();
        await Expect(operatorPage.GetByText("it cannot be shown again")).ToBeVisibleAsync();
        var token = await operatorPage.GetByLabel("The new organization admin token").InputValueAsync();
        Assert.StartsWith("tga_", token);

        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var page = await ConsoleSteps.SignInAsync(context, token);
        await Expect(page).ToHaveURLAsync(new Regex($"/console/orgs/{mine.OrgId}$"));
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })).Not.ToContainTextAsync("Organizations");
        await Expect(page.Locator("#keys")).ToContainTextAsync("velma-2-stt-batch");

        // Refused by the server, not just unlinked: the list of organizations, another organization's pages, key and live figures.
        Assert.Equal(403, (await page.GotoAsync("console/orgs"))!.Status);
        var other = await page.GotoAsync($"console/orgs/{theirs.OrgId}");
        Assert.Equal(403, other!.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"You administer organization {mine.OrgId} only");
        Assert.Equal(403, (await page.GotoAsync($"console/orgs/{theirs.OrgId}/usage"))!.Status);
        Assert.Equal(403, (await page.GotoAsync($"console/orgs/{theirs.OrgId}/keys/new"))!.Status);
        Assert.Equal(404, (await page.GotoAsync($"console/keys/{theirs.KeyId}"))!.Status);
        Assert.Equal(404, (await page.GotoAsync($"console/keys/{theirs.KeyId}/revoke"))!.Status);
        Assert.Equal(403, (await page.GotoAsync($"console/orgs/{theirs.OrgId}/activity"))!.Status);
        Assert.Equal(200, (await page.GotoAsync($"console/orgs/{mine.OrgId}/activity"))!.Status);
        await Expect(page.GetByText("No Platform API job yet.")).ToBeVisibleAsync();
        Assert.Equal(403, (await context.APIRequest.GetAsync($"console/api/orgs/{theirs.OrgId}/live")).Status);
        Assert.Equal(200, (await context.APIRequest.GetAsync($"console/api/orgs/{mine.OrgId}/live")).Status);

        // Revoking the token ends the session at its next request.
        using var admin = server.CreateAdminClient();
        var tokens = JsonNode.Parse(await admin.GetStringAsync("admin/tokens"))!["items"]!.AsArray();
        var id = tokens.Single(t => t!["org_id"]?.GetValue<string>() == mine.OrgId)!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"admin/tokens/{id}")).StatusCode);
        await page.GotoAsync($"console/orgs/{mine.OrgId}");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
    }

    [Fact]
    public async Task A_state_changing_post_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        var server = fixture.Server;
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var page = await ConsoleSteps.SignInAsync(context, TollgateServer.AdminToken);
        var name = "csrf-" + Guid.NewGuid().ToString("N")[..8];

        // The session cookie goes along (same browser context), the form's token does not.
        var forged = await context.APIRequest.PostAsync("console/orgs", new()
        {
            Form = FormOf(context.APIRequest, ("_handler", "create-org"), ("name", name)),
            MaxRedirects = 0,
        });
        Assert.Equal(400, forged.Status);
        var signOut = await context.APIRequest.PostAsync("console/sign-out", new() { Form = FormOf(context.APIRequest, ("x", "y")), MaxRedirects = 0 });
        Assert.Equal(400, signOut.Status);

        using var admin = server.CreateAdminClient();
        Assert.DoesNotContain(name, await admin.GetStringAsync("admin/orgs?limit=1000"));
        // Still signed in: the forged sign-out did nothing.
        Assert.Equal(200, (await page.GotoAsync("console/orgs"))!.Status);

        // The same form, sent by the page with its token, works.
        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_session_cookie_is_HttpOnly_and_SameSite_and_signing_out_ends_the_session_on_the_server()
    {
        var server = fixture.Server;
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var page = await context.NewPageAsync();

        // A page asked for before signing in is where sign-in leads.
        await page.GotoAsync("console/orgs?after=");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in\\?returnUrl="));
        await page.GetByLabel("Admin token").FillAsync(TollgateServer.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/orgs"));

        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "tollgate_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/console", cookie.Path);
        Assert.False(cookie.Secure); // plain HTTP on loopback; over HTTPS the cookie is Secure (CookieSecurePolicy.SameAsRequest)
        Assert.Equal("", await page.EvaluateAsync<string>("document.cookie"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("You are signed out.");
        await page.GotoAsync("console/orgs");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));

        // A copy of the cookie taken before signing out opens nothing: the session is gone from the server.
        await using var replay = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        await replay.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value, Domain = cookie.Domain, Path = cookie.Path }]);
        var replayed = await replay.NewPageAsync();
        await replayed.GotoAsync("console/orgs");
        await Expect(replayed).ToHaveURLAsync(new Regex("/console/sign-in"));
    }

    private static IFormData FormOf(IAPIRequestContext api, params (string Name, string Value)[] fields)
    {
        var form = api.CreateFormData();
        foreach (var (n, v) in fields)
        {
            form.Set(n, v);
        }
        return form;
    }
}
