using Tollgate.Server.OpenApi;
using Tollgate.Server.Platform;
using Tollgate.Server.Http;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tollgate.Caching;
using Tollgate.Identity;
using Tollgate.Server.Admin;
using Tollgate.Server.Admin.Insights;
using Tollgate.Server.Admission;
using Tollgate.Server.Backends;
using Tollgate.Server.Caching;
using Tollgate.Server.Dubbing;
using Tollgate.Server.Jobs;
using Tollgate.Server.Models;
using Tollgate.Server.Observability;
using Tollgate.Server.WebConsole;

namespace Tollgate.Server.Hosting;

internal static class TollgateHostingExtensions
{
    /// <summary>Everything the Tollgate server needs: options, the store, identity, backends, OpenAPI.</summary>
    public static WebApplicationBuilder AddTollgate(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.Logging.AddKeySafeLogging();
        builder.Logging.AddStartupLogging();

        services.AddOptions<TollgateOptions>().BindConfiguration(TollgateOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TollgateOptions>, TollgateOptionsValidator>();
        services.AddStartupCheck<TollgateOptions>();

        services.AddSingleton(TimeProvider.System);
        try
        {
            services.AddTollgateStorage(builder.Configuration);
            services.AddStoreCaches();
        }
        catch (InvalidOperationException ex)
        {
            // Store selection only fails on ConnectionStrings:Tollgate: reported with every other bad setting.
            services.AddSingleton(new StartupProblem(ex.Message));
        }
        // Uploads are spooled in the data directory unless a folder is named (so one volume holds all of Tollgate's files).
        services.AddOptions<TollgateOptions>().PostConfigure<DataDirectory>((o, data) => o.SpoolDirectory = ResolveSpoolDirectory(o.SpoolDirectory, data));
        services.AddValidatedOptions<LeftoverOptions>(LeftoverOptions.SectionPath, static o => o.Validate());
        // First of the hosted services: a crash's leftovers are gone before anything else starts.
        services.AddHostedService<LeftoverSweep>();
        services.AddValidatedOptions<ShutdownOptions>(ShutdownOptions.SectionPath, static o => o.Validate());
        // Read unvalidated here: the host reads its options while it is built, before the start-up validation reports
        // every section's problems at once (a bad value then stops the server there, naming the setting).
        services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
            host.ShutdownTimeout = (configuration.GetSection(ShutdownOptions.SectionPath).Get<ShutdownOptions>() ?? new ShutdownOptions()).TimeoutValue);
        services.AddSingleton<ICacheInvalidation, LocalCacheInvalidation>();
        services.AddSingleton(sp => new KeyAuthenticator(sp.GetRequiredService<IIdentityStore>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ICacheInvalidation>()));
        services.AddSingleton(sp => new KeyIssuer(sp.GetRequiredService<IIdentityStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AdminTokenVerifier>();
        services.AddAdminInsights();
        services.AddHostedService<Bootstrapper>();
        services.AddHostedService<KeyUsageFlusher>();

        services.AddLimits();
        // After the in-process limits: ConnectionStrings:Redis, when set, puts them (and cache invalidation) in Redis.
        services.AddTollgateDistribution(builder.Configuration);
        services.AddAdmission();
        services.AddDubbing(builder.Configuration);
        services.AddPlatformApi();
        services.AddJobs(builder.Configuration);
        services.AddModelsApi();
        services.AddBackends();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = null;
            o.SerializerOptions.Encoder = ServerJsonContext.Encoder;
        });
        services.AddProblemDetails();
        services.AddTollgateHealthChecks();
        builder.AddTollgateTelemetry();
        services.AddApiReference();
        services.AddTollgateConsole();
        return builder;
    }

    /// <summary><c>Tollgate:SpoolDirectory</c> as given (a relative one against the working directory), or <c>spool</c> in the data directory.</summary>
    internal static string ResolveSpoolDirectory(string? configured, DataDirectory data) =>
        Path.GetFullPath(configured is { Length: > 0 } ? configured : Path.Combine(data.Path, "spool"));
}
