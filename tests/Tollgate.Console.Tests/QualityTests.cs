using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Tollgate.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Tollgate.Console;

/// <summary>Accessibility (axe-core, bundled with its package), a phone-width layout, page weight and first paint.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class QualityTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task The_main_pages_have_no_accessibility_violations()
    {
        var server = fixture.Server;
        var key = await server.CreateKeyAsync("velma-2-stt-batch");
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server);
        var page = await context.NewPageAsync();
        await Check(page, "console/sign-in");
        page = await ConsoleSteps.SignInAsync(context, TollgateServer.AdminToken);
        foreach (var path in new[]
                 {
                     "console/orgs", $"console/orgs/{key.OrgId}", $"console/orgs/{key.OrgId}/keys/new", $"console/keys/{key.KeyId}",
                     $"console/keys/{key.KeyId}/revoke", $"console/orgs/{key.OrgId}/usage", $"console/orgs/{key.OrgId}/activity",
                 })
        {
            await Check(page, path);
        }

        static async Task Check(IPage page, string path)
        {
            await page.GotoAsync(path);
            var result = await page.RunAxe();
            var found = string.Join("\n", result.Violations.Select(v =>
                $"{path}: {v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}"));
            Assert.True(result.Violations.Length == 0, found);
        }
    }

    [Fact]
    public async Task On_a_phone_the_usage_page_fits_the_screen_weighs_under_200_KB_and_paints_within_a_second()
    {
        var server = fixture.Server;
        var key = await server.CreateKeyAsync(new Dictionary<string, (int, double)> { ["velma-2-stt-batch"] = (5, 10), ["velma-2-stt-streaming"] = (2, 1) });
        using (var client = server.CreateClient(key.Secret))
        {
            using var answer = await client.PostAsync("api/velma-2-stt-batch",
                new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "speech.wav" } });
            answer.EnsureSuccessStatusCode();
        }
        await using var context = await ConsoleSteps.NewContextAsync(fixture.Browser, server, width: 390, height: 844);
        var page = await ConsoleSteps.SignInAsync(context, TollgateServer.AdminToken);

        long bytes = 0;
        page.Response += async (_, response) =>
        {
            try
            {
                Interlocked.Add(ref bytes, (await response.BodyAsync()).Length);
            }
            catch (PlaywrightException)
            {
                // a redirect has no body
            }
        };
        await page.GotoAsync($"console/orgs/{key.OrgId}/usage", new() { WaitUntil = WaitUntilState.NetworkIdle });
        await Expect(page.Locator("svg[data-chart='velma-2-stt-batch']")).ToBeVisibleAsync();
        var paint = await page.EvaluateAsync<double>(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1");
        Assert.InRange(paint, 0, 1000);
        Assert.True(bytes is > 0 and < 200_000, $"{bytes} bytes of page and assets");
        var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than the phone's screen");
        await ConsoleSteps.ScreenshotAsync(page, "usage-phone");
    }
}
