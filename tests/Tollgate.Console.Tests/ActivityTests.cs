using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Tollgate.Dubbing;
using Tollgate.Infrastructure;
using Tollgate.Platform;
using static Microsoft.Playwright.Assertions;

namespace Tollgate.Console;

/// <summary>
/// An organization's Platform jobs and dubs, made through the public APIs as a customer would, seen in the console's list
/// and detail pages with the status the APIs themselves answer.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ActivityTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task A_Platform_job_and_a_dub_show_in_the_list_and_their_detail_pages_with_their_status()
    {
        var server = fixture.Server;
        var key = await PlatformClient.FullKeyAsync(server);
        using var platform = new PlatformClient(server, key);
        var (submitted, job) = await platform.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), filename: "interview.wav"));
        Assert.Equal(HttpStatusCode.OK, submitted);
        var jobId = job["job_id"]!.GetValue<string>();
        await platform.WaitForAsync(jobId, "completed");

        var dubbingKey = await server.CreateKeyAsync(new Dictionary<string, (int, double)> { ["velma-2-batch"] = (5, 10) }, key.OrgId);
        using var dubbing = new DubbingClient(server, dubbingKey.Secret);
        var dubId = await dubbing.CreateDubAsync(TestAudio.SpeechLikeWav(), "pt-BR");

        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var page = await ConsoleSteps.SignInAsync(context, TollgateServer.AdminToken);
        await page.GotoAsync($"console/orgs/{key.OrgId}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Jobs and dubs" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex("^Jobs and dubs of") })).ToBeVisibleAsync();
        var jobRow = page.Locator("#jobs tbody tr", new() { HasText = jobId });
        await Expect(jobRow).ToContainTextAsync("completed");
        var dubRow = page.Locator("#dubs tbody tr", new() { HasText = dubId });
        await Expect(dubRow).ToContainTextAsync("pt-BR");
        await Expect(dubRow).ToContainTextAsync("new");
        await ConsoleSteps.ScreenshotAsync(page, "jobs-and-dubs");

        await jobRow.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Job {jobId}" })).ToBeVisibleAsync();
        var file = page.Locator("#files tbody tr").First;
        await Expect(file).ToContainTextAsync("interview.wav");
        await Expect(file).ToContainTextAsync("completed");
        await ConsoleSteps.ScreenshotAsync(page, "job");

        await page.GoBackAsync();
        await page.Locator("#dubs tbody tr", new() { HasText = dubId }).GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Dub {dubId}" })).ToBeVisibleAsync();
        await Expect(page.Locator("dl.facts")).ToContainTextAsync("→ pt-BR");
    }
}
