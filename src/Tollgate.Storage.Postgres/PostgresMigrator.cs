using DbUp;
using Microsoft.Extensions.Logging;
using Npgsql;
using Tollgate.Storage.Relational;

namespace Tollgate.Storage.Postgres;

/// <summary>
/// Brings a PostgreSQL database to the current schema (<see cref="SchemaMigration"/>): the scripts embedded from
/// <c>Migrations/NNNN_name.sql</c> that the journal table (<see cref="JournalTable"/>) does not list yet run in name
/// order, in one transaction. Every node runs this at start; a session-level advisory lock
/// (<see cref="LockKey"/>) held around the whole run makes the nodes that start at once take turns, so the first
/// migrates and the others find the journal current and run nothing.
/// </summary>
internal sealed class PostgresMigrator(ILogger<PostgresMigrator>? logger = null)
{
    public const string JournalTable = "schema_versions";

    /// <summary>The advisory lock every Tollgate node takes to migrate (an arbitrary constant: "tollgate" in ASCII).</summary>
    public const long LockKey = 0x746f6c6c67617465;

    private const string ScriptPrefix = "Tollgate.Storage.Postgres.Migrations.";

    /// <summary>The names of the migration scripts this build carries, in the order they run.</summary>
    public static IReadOnlyList<string> Scripts { get; } = SchemaMigration.Scripts(typeof(PostgresMigrator).Assembly, ScriptPrefix);

    /// <summary>Waits for the migration lock, runs the scripts <paramref name="database"/> lacks; returns their names (none when it was current).</summary>
    /// <exception cref="InvalidOperationException">A script failed; nothing of this run is kept.</exception>
    /// <exception cref="NpgsqlException">The database cannot be reached.</exception>
    public IReadOnlyList<string> Migrate(PostgresDatabase database)
    {
        using var connection = database.DataSource.OpenConnection();
        using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            take.Parameters.AddWithValue("key", LockKey);
            take.CommandTimeout = 0;
            take.ExecuteNonQuery();
        }
        try
        {
            var builder = DeployChanges.To.PostgresqlDatabase(database.ConnectionString)
                .JournalToPostgresqlTable(schema: null!, JournalTable); // unqualified: the connection's search_path decides, as for the tables
            var applied = SchemaMigration.Run(builder, typeof(PostgresMigrator).Assembly, ScriptPrefix, "PostgreSQL", logger);
            if (applied.Count > 0 && logger is not null)
            {
                logger.LogInformation("Migrated the PostgreSQL store {Database}: ran {Scripts}", database.Describe(), string.Join(", ", applied));
            }
            return applied;
        }
        finally
        {
            using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            release.Parameters.AddWithValue("key", LockKey);
            release.ExecuteNonQuery();
        }
    }
}
