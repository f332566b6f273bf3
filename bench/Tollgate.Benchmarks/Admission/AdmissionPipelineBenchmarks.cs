using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Identity;
using Tollgate.Models;
using Tollgate.Server.Admission;
using Tollgate.Server.Hosting;

namespace Tollgate.Benchmarks.Admission;

/// <summary>
/// The whole admission middleware for one request, in process, as the server composes it: a Dubbing API GET (key
/// check, the four default rate windows, the <c>X-RateLimit-*</c> headers) and a Models API batch admission (key,
/// entitlement, lease, quota standing, settlement of an empty call). Baseline: the same request context passed
/// straight to the same terminal delegate, so the difference is exactly what admission costs and allocates.
/// </summary>
[MemoryDiagnoser]
public class AdmissionPipelineBenchmarks
{
    private static readonly RequestDelegate Terminal = static context =>
    {
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    };

    private WebApplication _app = null!;
    private AdmissionMiddleware _admission = null!;
    private Endpoint _dubbing = null!;
    private Endpoint _batch = null!;
    private string _key = null!;
    private string _directory = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "tollgate-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _app = TollgateApplication.Build(["--urls", "http://127.0.0.1:0"],
            builder => builder.Logging.ClearProviders(),
            configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Tollgate:DataDirectory"] = _directory,
                ["ConnectionStrings:Tollgate"] = $"Data Source={Path.Combine(_directory, "t.db")}",
                ["Tollgate:Admin:Token"] = "bench-admin-token-0123456789",
                ["Tollgate:Bootstrap:CreateDemo"] = "false",
                ["Tollgate:RateLimits:Rules:global:Limit"] = "1000000000000",
                ["Tollgate:RateLimits:Rules:safe:Limit"] = "1000000000000",
            }));
        var services = _app.Services;
        var store = services.GetRequiredService<IIdentityStore>();
        var org = store.CreateOrganizationAsync("bench").GetAwaiter().GetResult();
        var user = store.CreateUserAsync(org.Id, "bench").GetAwaiter().GetResult();
        var issued = services.GetRequiredService<KeyIssuer>().IssueAsync(user, null,
            new Dictionary<string, ModelLimits> { ["velma-2-stt-batch"] = new(1_000, 1_000) }).GetAwaiter().GetResult();
        _key = issued.Secret;
        _admission = ActivatorUtilities.CreateInstance<AdmissionMiddleware>(services, Terminal);
        _dubbing = new Endpoint(Terminal, new EndpointMetadataCollection(new AdmissionMetadata(Surface.Dubbing)), "dubbing");
        _batch = new Endpoint(Terminal, new EndpointMetadataCollection(
            new AdmissionMetadata(Surface.Models, ModelCatalog.Get("velma-2-stt-batch"), metered: true)), "batch");
        // Warm: the key is cached, the user's windows and the pool's month exist, as for an active caller.
        for (var i = 0; i < 10; i++)
        {
            DubbingGet();
            BatchAdmission();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private DefaultHttpContext Request(string method, Endpoint endpoint, string header, string value)
    {
        var context = new DefaultHttpContext { RequestServices = _app.Services };
        context.Request.Method = method;
        context.Request.Headers[header] = value;
        context.SetEndpoint(endpoint);
        return context;
    }

    [Benchmark(Baseline = true)]
    public int WithoutAdmission()
    {
        var context = Request(HttpMethods.Get, _dubbing, "Authorization", "Api-Key " + _key);
        Terminal(context).GetAwaiter().GetResult();
        return context.Response.StatusCode;
    }

    [Benchmark]
    public int DubbingGet()
    {
        var context = Request(HttpMethods.Get, _dubbing, "Authorization", "Api-Key " + _key);
        _admission.Invoke(context).GetAwaiter().GetResult();
        return context.Response.StatusCode;
    }

    [Benchmark]
    public int BatchAdmission()
    {
        var context = Request(HttpMethods.Post, _batch, "X-API-Key", _key);
        _admission.Invoke(context).GetAwaiter().GetResult();
        return context.Response.StatusCode;
    }
}
