using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tollgate.Blobs;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Metering;
using Tollgate.Storage.Relational;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Relational.Identity;
using Tollgate.Storage.Relational.Jobs;
using Tollgate.Storage.Relational.Metering;
using Tollgate.Storage.Sqlite.Health;

namespace Tollgate.Storage.Sqlite;

/// <summary>The embedded storage in one call: what a host registers when its connection string is a SQLite one.</summary>
internal static class SqliteStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the SQLite file behind <paramref name="connectionString"/> (a relative file lives in
    /// <paramref name="dataDirectory"/>) with its migrator, the identity store, the usage ledger, the dubbing store, the job store, the Platform API store
    /// on it, the blob store in <paramref name="dataDirectory"/>, and its readiness check (tagged <c>ready</c>). The file is migrated once, when the first store is
    /// made (at start-up: the hosted services need them), before any store reads or writes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is not a SQLite connection string naming a file.</exception>
    public static IServiceCollection AddSqliteStorage(this IServiceCollection services, string connectionString, string dataDirectory)
    {
        var resolved = SqliteDatabase.Resolve(connectionString, dataDirectory);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SqliteMigrator>(sp));
        services.AddSingleton(sp =>
        {
            var database = new SqliteDatabase(resolved);
            sp.GetRequiredService<SqliteMigrator>().Migrate(database);
            return database;
        });
        services.AddSingleton<SqlDatabase>(sp => sp.GetRequiredService<SqliteDatabase>());
        services.AddSqlStores();
        services.AddSingleton<IBlobStore>(new FileSystemBlobStore(dataDirectory));
        // Readiness (/readyz runs every check tagged "ready"): the file answers a fresh connection.
        services.AddHealthChecks().AddCheck<SqliteHealthCheck>(SqliteHealthCheck.Name, tags: [SqliteHealthCheck.ReadinessTag], timeout: TimeSpan.FromSeconds(5));
        return services;
    }
}
