using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Tollgate.Dubbing;
using Tollgate.Jobs;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Sqlite.Dubbing;

namespace Tollgate.Server.Dubbing;

/// <summary>Wires the Dubbing API: options (validated at start), the store, the workflow (requests, and dub and voice jobs for the job engine), the link fetcher and the start-up work.</summary>
internal static class DubbingServiceCollectionExtensions
{
    public static IServiceCollection AddDubbing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DubbingOptions>().Bind(configuration.GetSection(DubbingOptions.SectionPath)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DubbingOptions>, DubbingOptionsValidator>();
        services.AddSingleton<IDubbingStore>(sp => new SqliteDubbingStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton(sp => new DubbingFiles(ResolveDirectory(
            sp.GetRequiredService<IOptions<DubbingOptions>>().Value, sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<IHostEnvironment>())));
        services.AddSingleton<IDubProcessingGate, OpenDubProcessingGate>();
        services.TryAddSingleton(Tollgate.Backends.Reference.Dubbing.ReferenceDubRenderer.Processor);
        services.AddSingleton(sp => new DubbingRequests(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<DubbingFiles>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DubbingOptions>>().Value,
            sp.GetRequiredService<JobQueue>()));
        services.AddSingleton(sp => new DubProcessing(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<DubbingFiles>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IDubProcessingGate>(),
            sp.GetRequiredService<IDubProcessor>()));
        services.AddSingleton(sp => new VoiceTraining(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<DubbingFiles>(),
            sp.GetRequiredService<IDubProcessor>()));
        services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<DubProcessing>());
        services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<VoiceTraining>());
        services.AddSingleton<SourceFetcher>();
        // Registered before the job engine (AddJobs), so the start-up sweep has run when the engine first claims.
        services.AddHostedService<DubbingStartup>();
        return services;
    }

    /// <summary>
    /// <c>Tollgate:Dubbing:Directory</c> (relative to the content root), or by default a <c>dubbing</c> folder beside
    /// the SQLite file, so the files of a store always travel with it.
    /// </summary>
    private static string ResolveDirectory(DubbingOptions options, SqliteDatabase database, IHostEnvironment environment)
    {
        if (options.Directory is { Length: > 0 } configured)
        {
            return Path.IsPathRooted(configured) ? configured : Path.Combine(environment.ContentRootPath, configured);
        }
        var builder = new SqliteConnectionStringBuilder(database.ConnectionString);
        return builder.Mode != SqliteOpenMode.Memory && builder.DataSource is { Length: > 0 } file && file != ":memory:"
            ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? environment.ContentRootPath, "dubbing")
            : Path.Combine(environment.ContentRootPath, "data", "dubbing");
    }

    private sealed class DubbingOptionsValidator : IValidateOptions<DubbingOptions>
    {
        public ValidateOptionsResult Validate(string? name, DubbingOptions options) =>
            options.Validate().ToList() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
