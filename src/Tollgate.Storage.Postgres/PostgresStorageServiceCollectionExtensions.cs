using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Tollgate.Blobs;
using Tollgate.Storage.Postgres.Health;
using Tollgate.Storage.Relational;

namespace Tollgate.Storage.Postgres;

/// <summary>The distributed durable storage in one call: what a host registers when its connection string is a PostgreSQL one.</summary>
internal static class PostgresStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the PostgreSQL database behind <paramref name="connectionString"/> (<c>Host=…;Port=…;Database=…;
    /// Username=…;Password=…</c>) with its migrator, the identity store, the usage ledger, the dubbing store, the job
    /// store and the Platform API store on it, and the blob store in <paramref name="dataDirectory"/> (a folder every node shares when there are
    /// several). The database is migrated once per process, when the first store is made (at start-up: the hosted
    /// services need them), under the migration lock, before any store reads or writes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is not a PostgreSQL connection string naming a server and a database.</exception>
    public static IServiceCollection AddPostgresStorage(this IServiceCollection services, string connectionString, string dataDirectory)
    {
        var database = new PostgresDatabase(connectionString);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<PostgresMigrator>(sp));
        services.AddSingleton(sp =>
        {
            try
            {
                sp.GetRequiredService<PostgresMigrator>().Migrate(database);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // Npgsql's message says why (refused, authentication, unknown database); the password is never in it.
                throw new InvalidOperationException($"The PostgreSQL store {database.Describe()} cannot be reached or migrated: {ex.Message}", ex);
            }
            return database;
        });
        services.AddSingleton<SqlDatabase>(sp => sp.GetRequiredService<PostgresDatabase>());
        services.AddSqlStores();
        services.AddSingleton<IBlobStore>(new FileSystemBlobStore(dataDirectory));
        // Readiness (/readyz runs every check tagged "ready"): the database answers a query.
        services.AddHealthChecks().AddCheck<PostgresHealthCheck>(PostgresHealthCheck.Name, tags: ["ready"], timeout: TimeSpan.FromSeconds(5));
        return services;
    }
}
