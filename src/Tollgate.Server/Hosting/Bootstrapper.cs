using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Tollgate.Identity;
using Tollgate.Models;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Server.Admin;

namespace Tollgate.Server.Hosting;

/// <summary>
/// Every start says where the data is. The first start also settles the admin token and, when the store is empty,
/// creates a demo organization, user and key entitled to every model, then prints the secrets once (to the console,
/// never to a log) with a curl that works. All of that happens only once the server is listening
/// (<see cref="IHostedLifecycleService.StartedAsync"/> runs after Kestrel has bound its addresses): a start that never
/// gets there (a port already taken) consumes nothing, and the next good start shows the credentials.
/// </summary>
internal sealed partial class Bootstrapper(
    AdminTokenVerifier adminToken,
    IIdentityStore store,
    KeyIssuer issuer,
    DataDirectory data,
    IOptions<TollgateOptions> options,
    IServer server,
    IEnumerable<StoreLocation> storeLocations,
    ILogger<Bootstrapper> logger) : IHostedLifecycleService
{
    private string StoreDescription => storeLocations.LastOrDefault()?.Description ?? "the store named by ConnectionStrings:Tollgate";

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        LogDataLocation(logger, data.Path, StoreDescription);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var generatedToken = await adminToken.InitializeAsync(cancellationToken);
        string? demoKey = null;
        string? demoOrg = null;
        string? samplePath = null;
        var bootstrap = options.Value.Bootstrap;
        if (bootstrap.CreateDemo && (await store.ListOrganizationsAsync(cancellationToken)).Count == 0 && await ClaimDemoAsync(cancellationToken))
        {
            var org = await store.CreateOrganizationAsync("Demo", cancellationToken);
            var user = await store.CreateUserAsync(org.Id, "demo", cancellationToken);
            var limits = new ModelLimits(bootstrap.DemoConcurrency, bootstrap.DemoMonthlyAudioHours);
            var issued = await issuer.IssueAsync(user, "demo key", ModelCatalog.Names.ToDictionary(n => n, _ => limits), cancellationToken);
            demoKey = issued.Secret;
            demoOrg = org.Id;
            samplePath = WriteSample(data);
        }
        if (generatedToken is not null || demoKey is not null)
        {
            Print(generatedToken, demoKey, demoOrg, samplePath);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Whether this process is the one to create the demo: of several nodes starting at once on one empty store, each
    /// sees no organization, and the one whose claim is stored first creates it (the others none).
    /// </summary>
    private async Task<bool> ClaimDemoAsync(CancellationToken ct)
    {
        var claim = Guid.NewGuid().ToString("N");
        return await store.AddSettingAsync(DemoClaimSetting, claim, ct) == claim;
    }

    private const string DemoClaimSetting = "bootstrap_demo_claim";

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Data directory: {DataDirectory}; store: {Store}")]
    private static partial void LogDataLocation(ILogger logger, string dataDirectory, string store);

    private void Print(string? token, string? demoKey, string? demoOrg, string? samplePath)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://127.0.0.1:5080";
        var output = Console.Out;
        output.WriteLine();
        output.WriteLine("==================== Tollgate first start ====================");
        if (token is not null)
        {
            output.WriteLine($"Admin token (shown once; set Tollgate__Admin__Token to choose your own):");
            output.WriteLine($"  {token}");
        }
        if (demoKey is not null)
        {
            output.WriteLine("Demo API key, entitled to every model (shown once):");
            output.WriteLine($"  {demoKey}");
            output.WriteLine("Try it:");
            output.WriteLine($"  curl -s {address}/api/velma-2-stt-batch -H 'X-API-Key: {demoKey}' -F upload_file=@{samplePath}");
            output.WriteLine($"  curl -s {address}/api/velma-2-batch/list-presets -H 'X-API-Key: {demoKey}'");
            output.WriteLine($"Platform API (accountuuid is the demo organization):");
            output.WriteLine($"  curl -s {address}/api_service -H 'accountuuid: {demoOrg}' -H 'apikey: {demoKey}' -F file=@{samplePath}");
        }
        output.WriteLine($"Store: {StoreDescription} (data directory {data.Path})");
        output.WriteLine($"API reference: {address}/docs");
        output.WriteLine($"Web console: {address}/console (sign in with the admin token)");
        output.WriteLine("===============================================================");
        output.WriteLine();
        output.Flush();
    }

    /// <summary>A 3 s, 16 kHz mono WAV with two tone bursts in the data directory, so the first curl has a file to send.</summary>
    private static string WriteSample(DataDirectory data)
    {
        var folder = data.Path;
        var path = Path.Combine(folder, "sample.wav");
        const int rate = 16_000;
        var samples = new short[rate * 3];
        for (var i = 0; i < samples.Length; i++)
        {
            var t = (double)i / rate;
            var on = t is >= 0.5 and < 1.5 || t is >= 2.0 and < 2.8;
            samples[i] = on ? (short)(8000 * Math.Sin(2 * Math.PI * 440 * t)) : (short)0;
        }
        var bytes = WavFile.Mono16(samples, rate);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
