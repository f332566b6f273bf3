using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Server.Admission;
using Tollgate.Server.Dubbing;
using Tollgate.Server.Hosting;

namespace Tollgate.Benchmarks.Admission;

/// <summary>
/// <c>GET /v1/me</c> in process, admission included, on warm caches (the key, the user, the organization and its
/// credits): the server's own endpoint against the same answer made as the endpoint made it before (services from the
/// request's DI scope, <c>TypedResults.Json</c>), and against a fixed body of the same shape written straight to the
/// response (what bare Kestrel's endpoint does). Each request gets a new <see cref="DefaultHttpContext"/> writing to
/// <see cref="Stream.Null"/>; that context's own cost is in every case.
/// </summary>
[MemoryDiagnoser]
public class AccountEndpointBenchmarks
{
    private static readonly byte[] FixedBody =
        """{"userId":"usr_0000000000000000","userName":"bench","organizationId":"org_0000000000000000","organizationName":"bench","keyId":"key_0000000000000000","monthlyCredits":36000,"apiCreditsUsed":0,"apiCreditsLeft":36000,"creditsPeriod":"2026-12","creditsResetAt":"2027-01-01T00:00:00+00:00"}"""u8.ToArray();

    private WebApplication _app = null!;
    private IServiceScopeFactory _scopes = null!;
    private Endpoint _endpoint = null!;
    private AdmissionMiddleware _server = null!;
    private AdmissionMiddleware _typedResults = null!;
    private AdmissionMiddleware _fixed = null!;
    private string _header = null!;
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
        _scopes = services.GetRequiredService<IServiceScopeFactory>();
        var store = services.GetRequiredService<IIdentityStore>();
        var org = store.CreateOrganizationAsync("bench").GetAwaiter().GetResult();
        var user = store.CreateUserAsync(org.Id, "bench").GetAwaiter().GetResult();
        _header = "Api-Key " + services.GetRequiredService<KeyIssuer>().IssueAsync(user, null, new Dictionary<string, ModelLimits> { ["velma-2-stt-batch"] = new(1_000, 1_000) })
            .GetAwaiter().GetResult().Secret;
        _endpoint = ((IEndpointRouteBuilder)_app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == "/v1/me" && e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("GET") == true);
        _server = ActivatorUtilities.CreateInstance<AdmissionMiddleware>(services, _endpoint.RequestDelegate!);
        _typedResults = ActivatorUtilities.CreateInstance<AdmissionMiddleware>(services, (RequestDelegate)TypedResultsAnswer);
        _fixed = ActivatorUtilities.CreateInstance<AdmissionMiddleware>(services, (RequestDelegate)FixedAnswer);
        for (var i = 0; i < 10; i++)
        {
            Server();
            TypedResultsJson();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The endpoint as it was: its services from the request's scope, the answer through <c>TypedResults.Json</c>.</summary>
    private static async Task TypedResultsAnswer(HttpContext context)
    {
        var identity = context.RequestServices.GetRequiredService<IIdentityStore>();
        var dubbing = context.RequestServices.GetRequiredService<DubbingRequests>();
        var caller = context.Features.Get<AdmissionFeature>()!.Principal!;
        var org = await identity.GetOrganizationAsync(caller.OrgId, context.RequestAborted);
        var user = await identity.GetUserAsync(caller.UserId, context.RequestAborted);
        var balance = await dubbing.BalanceAsync(caller.OrgId, context.RequestAborted);
        await DubbingJson.Ok(new AccountDto(caller.UserId, user?.Name, caller.OrgId, org?.Name, caller.KeyId, balance.Allowance, balance.Used,
            balance.Left, balance.Period.ToString(), balance.Period.End,
            caller.Key.Models.OrderBy(m => m.Key, StringComparer.Ordinal).ToDictionary(m => m.Key, m => new AccountModelDto(m.Value.Concurrency, m.Value.MonthlyAudioHours))))
            .ExecuteAsync(context);
    }

    private static Task FixedAnswer(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(FixedBody).AsTask();
    }

    private async Task<int> Run(AdmissionMiddleware pipeline, bool scoped)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Headers.Authorization = _header;
        context.SetEndpoint(_endpoint);
        if (!scoped)
        {
            await pipeline.Invoke(context);
            return context.Response.StatusCode;
        }
        await using var scope = _scopes.CreateAsyncScope();
        context.RequestServices = scope.ServiceProvider;
        await pipeline.Invoke(context);
        return context.Response.StatusCode;
    }

    [Benchmark(Baseline = true)]
    public int FixedBodyAfterAdmission() => Run(_fixed, scoped: false).GetAwaiter().GetResult();

    [Benchmark]
    public int TypedResultsJson() => Run(_typedResults, scoped: true).GetAwaiter().GetResult();

    [Benchmark]
    public int Server() => Run(_server, scoped: false).GetAwaiter().GetResult();
}
