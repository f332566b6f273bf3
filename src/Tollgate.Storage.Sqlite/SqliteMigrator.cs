using DbUp;
using DbUp.Sqlite;
using Microsoft.Extensions.Logging;
using Tollgate.Storage.Relational;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Brings a SQLite file to the current schema (<see cref="SchemaMigration"/>): the scripts embedded from
/// <c>Migrations/NNNN_name.sql</c> that the journal table (<see cref="JournalTable"/>) does not list yet run in name
/// order, all in one transaction that takes the write lock at once (<c>BEGIN IMMEDIATE</c>), so two processes starting
/// on one file never run a script twice and a failing script leaves the file as it was. Running it again on a current
/// file runs nothing.
/// </summary>
internal sealed class SqliteMigrator(ILogger<SqliteMigrator>? logger = null)
{
    public const string JournalTable = "schema_versions";

    private const string ScriptPrefix = "Tollgate.Storage.Sqlite.Migrations.";

    /// <summary>The names of the migration scripts this build carries, in the order they run.</summary>
    public static IReadOnlyList<string> Scripts { get; } = SchemaMigration.Scripts(typeof(SqliteMigrator).Assembly, ScriptPrefix);

    /// <summary>Runs the scripts <paramref name="database"/> lacks; returns their names (none when it was current).</summary>
    /// <exception cref="InvalidOperationException">A script failed; nothing of this run is kept.</exception>
    public IReadOnlyList<string> Migrate(SqliteDatabase database)
    {
        var builder = DeployChanges.To.SqliteDatabase(database.ConnectionString)
            .JournalTo((connections, log) => new SqliteTableJournal(connections, log, JournalTable));
        var applied = SchemaMigration.Run(builder, typeof(SqliteMigrator).Assembly, ScriptPrefix, "SQLite", logger);
        if (applied.Count > 0 && logger is not null)
        {
            logger.LogInformation("Migrated the SQLite store {DataSource}: ran {Scripts}",
                new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource, string.Join(", ", applied));
        }
        return applied;
    }
}
