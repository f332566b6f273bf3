using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tollgate.Blobs;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Metering;
using Tollgate.Platform;
using Tollgate.Storage.Sqlite.Dubbing;
using Tollgate.Storage.Sqlite.Identity;
using Tollgate.Storage.Sqlite.Jobs;
using Tollgate.Storage.Sqlite.Metering;
using Tollgate.Storage.Sqlite.Platform;

namespace Tollgate.Storage.Sqlite;

/// <summary>The embedded storage in one call: what a host registers when its connection string is a SQLite one.</summary>
internal static class SqliteStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the SQLite file behind <paramref name="connectionString"/> (a relative file lives in
    /// <paramref name="dataDirectory"/>) with its migrator, the identity store, the usage ledger, the dubbing store, the job store and the Platform API store
    /// on it, and the blob store in <paramref name="dataDirectory"/>. The file is migrated once, when the first store is
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
        services.AddSingleton<IIdentityStore>(sp => new SqliteIdentityStore(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IUsageLedger>(sp => new SqliteUsageLedger(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IDubbingStore>(sp => new SqliteDubbingStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IJobStore>(sp => new SqliteJobStore(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IPlatformStore>(sp => new SqlitePlatformStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IBlobStore>(new FileSystemBlobStore(dataDirectory));
        return services;
    }
}
