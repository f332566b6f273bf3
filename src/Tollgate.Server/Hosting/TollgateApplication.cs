using Tollgate.Server.Platform;
using Tollgate.Server.Dubbing;
using Tollgate.Server.OpenApi;
using Tollgate.Server.Admin;
using Tollgate.Server.Admission;
using Tollgate.Server.Backends;
using Tollgate.Server.Http;
using Tollgate.Server.Models;
using Tollgate.Server.Observability;
using Tollgate.Server.WebConsole;

namespace Tollgate.Server.Hosting;

/// <summary>The server's composition, shared by <c>Program</c> and the integration tests (which run the same app on a real Kestrel).</summary>
internal static class TollgateApplication
{
    /// <param name="configure">Adds configuration sources before anything reads them (the store is chosen from configuration as services are registered).</param>
    /// <param name="customize">Changes the registered services (tests replace a store, say) before the app is built.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? customize = null, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Beside the server binary: appsettings.json and the default data folder are found wherever it is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder.Configuration);
        builder.AddTollgate();
        customize?.Invoke(builder);
        ListenOnDefaultAddressUnlessConfigured(builder);

        var app = builder.Build();
        // Every configuration section at once, before anything reads one: all problems are reported together.
        StartupValidation.Run(app.Services);
        app.Lifetime.ApplicationStarted.Register(StartupLogging.Started);
        // First: the request log sees the status the error shapes and the exception handler settle on.
        app.UseMiddleware<RequestLogMiddleware>();
        app.UseErrorShapes();
        app.UseAdmission();
        app.UseTollgateConsole();
        app.MapModelsApi();
        app.MapUpstreams();
        app.MapAdminApi();
        app.MapDubbingApi();
        app.MapPlatformApi();
        app.MapApiReference();
        app.MapTollgateConsole();
        app.MapHealthEndpoints();
        app.MapTelemetryEndpoints();
        return app;
    }

    /// <summary>The address DESIGN 1 promises when nothing else is asked for.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>
    /// <c>--urls</c>, <c>ASPNETCORE_URLS</c>/<c>Urls</c>, <c>ASPNETCORE_HTTP_PORTS</c> and Kestrel endpoints in configuration
    /// all work as in any ASP.NET Core app; only when none is given does the server listen on <see cref="DefaultUrl"/>
    /// (loopback, so a first start exposes nothing).
    /// </summary>
    private static void ListenOnDefaultAddressUnlessConfigured(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var configured = !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
            || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
            || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey])
            || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();
        if (!configured)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
    }
}
