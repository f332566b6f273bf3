using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Tollgate.Identity;
using Tollgate.Models;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Server.Admin;

namespace Tollgate.Server.Hosting;

/// <summary>
/// First start: settles the admin token and, when the store is empty, creates a demo organization, user and
/// key entitled to every model, then prints the secrets once (to the console, never to a log) with a curl that works.
/// </summary>
internal sealed class Bootstrapper(
    AdminTokenVerifier adminToken,
    IIdentityStore store,
    KeyIssuer issuer,
    DataDirectory data,
    IOptions<TollgateOptions> options,
    IHostApplicationLifetime lifetime,
    IServer server) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var generatedToken = await adminToken.InitializeAsync(cancellationToken);
        string? demoKey = null;
        string? demoOrg = null;
        string? samplePath = null;
        var bootstrap = options.Value.Bootstrap;
        if (bootstrap.CreateDemo && (await store.ListOrganizationsAsync(cancellationToken)).Count == 0)
        {
            var org = await store.CreateOrganizationAsync("Demo", cancellationToken);
            var user = await store.CreateUserAsync(org.Id, "demo", cancellationToken);
            var limits = new ModelLimits(bootstrap.DemoConcurrency, bootstrap.DemoMonthlyAudioHours);
            var issued = await issuer.IssueAsync(user, "demo key", ModelCatalog.Names.ToDictionary(n => n, _ => limits), cancellationToken);
            demoKey = issued.Secret;
            demoOrg = org.Id;
            samplePath = WriteSample(data);
        }
        if (generatedToken is null && demoKey is null)
        {
            return;
        }
        lifetime.ApplicationStarted.Register(() => Print(generatedToken, demoKey, demoOrg, samplePath));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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
        output.WriteLine($"API reference: {address}/docs");
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
