using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Server.Hosting;

namespace Tollgate.Infrastructure;

/// <summary>
/// The real server on a real Kestrel (127.0.0.1, a free port) inside the test process, so it can share the test's fake
/// clock: what the SDK's pacing is measured against without waiting for real windows.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-0123456789";

    private readonly WebApplication _app;
    private readonly string _directory;

    private InProcessServer(WebApplication app, string directory, Uri baseAddress)
    {
        _app = app;
        _directory = directory;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<InProcessServer> StartAsync(IDictionary<string, string?> settings, TimeProvider time)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var all = new Dictionary<string, string?>
        {
            ["Tollgate:DataDirectory"] = directory,
            ["ConnectionStrings:Tollgate"] = $"Data Source={Path.Combine(directory, "tollgate.db")}",
            ["Tollgate:Admin:Token"] = AdminToken,
            ["Tollgate:Bootstrap:CreateDemo"] = "false",
            ["Tollgate:SpoolDirectory"] = Path.Combine(directory, "spool"),
        };
        foreach (var (k, v) in settings)
        {
            all[k] = v;
        }
        var app = TollgateApplication.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(time);
        }, configuration => configuration.AddInMemoryCollection(all));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new InProcessServer(app, directory, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
