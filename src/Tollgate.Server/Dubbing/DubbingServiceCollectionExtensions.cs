using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Tollgate.Dubbing;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Sqlite.Dubbing;

namespace Tollgate.Server.Dubbing;

/// <summary>Wires the Dubbing API: options (validated at start), the store, the workflow, the link fetcher and the workers.</summary>
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
        services.AddSingleton(sp => new DubbingService(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<DubbingFiles>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DubbingOptions>>().Value,
            sp.GetRequiredService<IDubProcessingGate>(),
            sp.GetRequiredService<IDubProcessor>()));
        services.AddSingleton<SourceFetcher>();
        services.AddHostedService<DubbingWorker>();
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
