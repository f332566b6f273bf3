using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Tollgate.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Tollgate.Console;

/// <summary>
/// The operator's way through the console, in a real browser against a real server: create an organization and a user,
/// generate a key, use it over HTTP, watch usage and in-flight requests move, then revoke it.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class OperatorFlowTests(ConsoleFixture fixture)
{
    private const string Model = "velma-2-stt-batch";

    [Fact]
    public async Task Operator_creates_an_org_a_user_and_a_key_sees_usage_and_in_flight_move_and_revokes_the_key()
    {
        var server = fixture.Server;
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var page = await context.NewPageAsync();

        // Not signed in: the console sends the browser to the sign-in page.
        await page.GotoAsync("console");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
        await ConsoleSteps.ScreenshotAsync(page, "sign-in");
        await page.GetByLabel("Admin token").FillAsync(TollgateServer.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/orgs$"));

        // An organization and a user.
        await page.GetByLabel("Name").FillAsync("Acme Voice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Acme Voice" })).ToBeVisibleAsync();
        var orgId = ConsoleSteps.OrgIdFromUrl(page.Url);
        Assert.StartsWith("org_", orgId);
        await page.GetByLabel("New user's name").FillAsync("alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        await Expect(page.Locator("section", new() { HasText = "Users" }).GetByRole(AriaRole.Cell, new() { Name = "alice" })).ToBeVisibleAsync();

        // A key for one model, 2 at once, 1 hour a month.
        await page.GetByRole(AriaRole.Link, new() { Name = "Generate an API key" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Generate an API key" })).ToBeVisibleAsync();
        await page.GetByLabel(Model, new() { Exact = true }).CheckAsync();
        await page.GetByLabel($"Concurrency limit for {Model}", new() { Exact = true }).FillAsync("2");
        await page.GetByLabel($"Monthly audio hours for {Model}", new() { Exact = true }).FillAsync("1");
        await ConsoleSteps.ScreenshotAsync(page, "new-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate key" }).ClickAsync();
        await Expect(page.GetByText("this key cannot be shown again")).ToBeVisibleAsync();
        var secret = await page.GetByLabel("The new API key").InputValueAsync();
        Assert.StartsWith("tgk_", secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copied" })).ToBeVisibleAsync();
        await ConsoleSteps.ScreenshotAsync(page, "key-created");

        // The key works over HTTP, on the batch endpoint.
        using var client = server.CreateClient(secret);
        using (var answer = await client.PostAsync($"api/{Model}", Upload()))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        // The month's usage shows the 3 s just charged, and the per-day chart.
        await page.GotoAsync($"console/orgs/{orgId}/usage");
        var row = page.Locator($"#usage tr[data-model='{Model}']");
        await Expect(row.Locator(".used")).ToHaveTextAsync("0.0008");
        var chart = page.Locator($"svg[data-chart='{Model}']");
        await Expect(chart.Locator("rect.bar")).ToHaveCountAsync(DateTime.DaysInMonth(DateTime.UtcNow.Year, DateTime.UtcNow.Month));
        await Expect(chart.Locator("rect.bar title", new() { HasText = DateTime.UtcNow.ToString("yyyy-MM-dd") })).ToHaveTextAsync(new Regex(": 0.00083 h$"));

        // In flight: an upload held open shows as 1 without reloading the page, then 0 again.
        var live = page.Locator($"[data-live-model='{Model}']");
        await Expect(live).ToHaveTextAsync("0");
        var gate = new GatedUpload();
        var held = client.SendAsync(gate.Request(Model, TestAudio.SpeechLikeWav()));
        await gate.BodyStarted;
        await Expect(live).ToHaveTextAsync("1");
        await ConsoleSteps.ScreenshotAsync(page, "usage");
        gate.Open();
        using (var answer = await held)
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        await Expect(live).ToHaveTextAsync("0");
        // alice's request-rate windows counted both calls (one, if a window turned between them), without a reload.
        var window = page.Locator("#windows tr", new() { HasText = "alice" }).Filter(new() { HasText = "global" }).Locator("td.num").First;
        await Expect(window).ToHaveTextAsync(new Regex("^[12]$"));

        // The keys list: prefix, owner, models, created, last used.
        await page.GotoAsync($"console/orgs/{orgId}");
        var keyRow = page.Locator("#keys tbody tr").First;
        await Expect(keyRow).ToContainTextAsync(secret[..12]);
        await Expect(keyRow).ToContainTextAsync("alice");
        await Expect(keyRow).ToContainTextAsync(Model);
        await Expect(keyRow).ToContainTextAsync("active");
        await ConsoleSteps.ScreenshotAsync(page, "organization");

        // The key's page: entitlements fixed, and a new key with the same settings offered, prefilled.
        await keyRow.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByText("These settings cannot be changed")).ToBeVisibleAsync();
        await ConsoleSteps.ScreenshotAsync(page, "key");
        var keyUrl = page.Url;
        await page.GetByRole(AriaRole.Link, new() { Name = "Create a new key with these settings" }).ClickAsync();
        await Expect(page.GetByLabel(Model, new() { Exact = true })).ToBeCheckedAsync();
        await Expect(page.GetByLabel($"Concurrency limit for {Model}", new() { Exact = true })).ToHaveValueAsync("2");
        await Expect(page.GetByLabel($"Monthly audio hours for {Model}", new() { Exact = true })).ToHaveValueAsync("1");

        // Revoke, after a confirmation; the key's next call is refused.
        await page.GotoAsync(keyUrl);
        await page.GetByRole(AriaRole.Link, new() { Name = "Revoke…" }).ClickAsync();
        await Expect(page.GetByText("cannot be undone")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Revoke key") }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is revoked");
        await Expect(page.Locator("#keys tbody tr").First).ToContainTextAsync("revoked");
        using (var refused = await client.PostAsync($"api/{Model}", Upload()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // The refusal is counted under the organization (stored every 2 s): the usage page lists it by status and code.
        var rejected = page.Locator("#rejections tbody tr", new() { HasText = "401" });
        for (var until = DateTime.UtcNow.AddSeconds(20); ; )
        {
            await page.GotoAsync($"console/orgs/{orgId}/usage");
            if (await rejected.CountAsync() > 0 || DateTime.UtcNow > until)
            {
                break;
            }
            await page.WaitForTimeoutAsync(250);
        }
        await Expect(rejected.Locator("td.num")).ToHaveTextAsync("1");

        await page.GotoAsync("console/orgs");
        await ConsoleSteps.ScreenshotAsync(page, "organizations");
    }

    [Fact]
    public async Task The_key_form_shows_the_Admin_APIs_own_messages_and_issues_nothing()
    {
        var server = fixture.Server;
        var existing = await server.CreateKeyAsync(Model);
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var page = await ConsoleSteps.SignInAsync(context, TollgateServer.AdminToken);

        await page.GotoAsync($"console/orgs/{existing.OrgId}/keys/new");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate key" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("models: at least one model is required");

        await page.GetByLabel(Model, new() { Exact = true }).CheckAsync();
        await page.GetByLabel($"Concurrency limit for {Model}", new() { Exact = true }).FillAsync("0");
        await page.GetByLabel($"Monthly audio hours for {Model}", new() { Exact = true }).FillAsync("2000000");
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Generate key" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(422, response.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"models.{Model}.concurrency: must be between 1 and 10000 (was 0).");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"models.{Model}.monthly_audio_hours: must be between 0 and 1000000 (was 2000000).");
        // What was typed stays in the form.
        await Expect(page.GetByLabel($"Concurrency limit for {Model}", new() { Exact = true })).ToHaveValueAsync("0");

        using var admin = server.CreateAdminClient();
        var keys = await admin.GetStringAsync($"admin/orgs/{existing.OrgId}/keys");
        Assert.Single(Regex.Matches(keys, "\"prefix\""));
    }

    private static MultipartFormDataContent Upload() =>
        new() { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "speech.wav" } };
}
