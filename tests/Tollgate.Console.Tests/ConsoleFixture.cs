using Microsoft.Playwright;
using Tollgate.Infrastructure;

namespace Tollgate.Console;

/// <summary>
/// One real Tollgate server on 127.0.0.1 and one real Chromium (Debian's <c>/usr/bin/chromium</c>, which
/// <c>scripts/test.sh</c> installs; Playwright's own browser download is not used) for the console's tests.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public TollgateServer Server { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The Models API carries request-rate rules here (by default only the Dubbing API does), so the usage page has windows to show.
        Server = await TollgateServer.StartAsync(new Dictionary<string, string?> { ["Tollgate:RateLimits:Surfaces:Models"] = "global,unsafe-hour" });
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await LaunchAsync(Playwright);
    }

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium (scripts/test.sh installs it).");
        }
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // As root in a container, and on a machine with no outside network: no sandbox, no background fetches.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await Server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}

/// <summary>Signing in, screenshots, and the other steps the tests share.</summary>
public static class ConsoleSteps
{
    public static async Task<IBrowserContext> NewContextAsync(IBrowser browser, TollgateServer server, int width = 1280, int height = 900)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = server.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(15_000);
        return context;
    }

    public static async Task<IPage> SignInAsync(IBrowserContext context, string token)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("console/sign-in");
        await page.GetByLabel("Admin token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/sign-in", StringComparison.Ordinal));
        return page;
    }

    /// <summary>Saves a screenshot of the page to docs/console/ (committed, linked from the README).</summary>
    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DocsFolder, name + ".png"), FullPage = true });

    private static readonly string DocsFolder = FindDocsFolder();

    private static string FindDocsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tollgate.sln")))
            {
                var docs = Path.Combine(dir.FullName, "docs", "console");
                Directory.CreateDirectory(docs);
                return docs;
            }
        }
        throw new InvalidOperationException("Tollgate.sln not found above " + AppContext.BaseDirectory);
    }

    public static string OrgIdFromUrl(string url) => new Uri(url).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)[2];
}
