using Tollgate.Server.Http;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Tollgate.Identity;
using Tollgate.Server.Admin;
using Tollgate.Server.Admission;
using Tollgate.Server.Backends;
using Tollgate.Server.Dubbing;
using Tollgate.Server.Models;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Sqlite.Identity;

namespace Tollgate.Server.Hosting;

internal static class TollgateHostingExtensions
{
    /// <summary>Everything the Tollgate server needs: options, the embedded store, identity, backends, OpenAPI.</summary>
    public static WebApplicationBuilder AddTollgate(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.Logging.AddKeySafeLogging();

        services.AddOptions<TollgateOptions>()
            .BindConfiguration(TollgateOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TollgateOptions>, TollgateOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddValidatedOptions<ShutdownOptions>(ShutdownOptions.SectionPath, static o => o.Validate());
        // Read unvalidated here: the host reads its options while it is built, before the start-up validation reports
        // every section's problems at once (a bad value then stops the server there, naming the setting).
        services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
            host.ShutdownTimeout = (configuration.GetSection(ShutdownOptions.SectionPath).Get<ShutdownOptions>() ?? new ShutdownOptions()).TimeoutValue);
        services.AddSingleton(sp => new SqliteDatabase(ResolveConnectionString(builder.Configuration, builder.Environment)));
        services.AddSingleton<IIdentityStore>(sp => new SqliteIdentityStore(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new KeyAuthenticator(sp.GetRequiredService<IIdentityStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new KeyIssuer(sp.GetRequiredService<IIdentityStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AdminTokenVerifier>();
        services.AddHostedService<Bootstrapper>();
        services.AddHostedService<KeyUsageFlusher>();

        services.AddLimits();
        services.AddAdmission();
        services.AddDubbing(builder.Configuration);
        services.AddModelsApi();
        services.AddBackends();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = null;
            o.SerializerOptions.Encoder = ServerJsonContext.Encoder;
        });
        services.AddProblemDetails();
        services.AddOpenApi(o => o.AddDocumentTransformer<TollgateDocumentTransformer>());
        return builder;
    }

    /// <summary>
    /// <c>ConnectionStrings:Tollgate</c>, with a relative SQLite path resolved against the content root
    /// (by default a <c>data</c> folder beside the server).
    /// </summary>
    internal static string ResolveConnectionString(IConfiguration configuration, IHostEnvironment environment)
    {
        var configured = configuration.GetConnectionString("Tollgate") ?? "Data Source=data/tollgate.db";
        var builder = new SqliteConnectionStringBuilder(configured);
        if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource) && !Path.IsPathRooted(builder.DataSource))
        {
            builder.DataSource = Path.Combine(environment.ContentRootPath, builder.DataSource);
        }
        return builder.ToString();
    }
}
