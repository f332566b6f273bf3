using System.Globalization;
using DbUp;
using DbUp.Engine;
using DbUp.Engine.Output;
using DbUp.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Brings a SQLite file to the current schema: the scripts embedded from <c>Migrations/NNNN_name.sql</c> that the
/// journal table (<see cref="JournalTable"/>) does not list yet run in name order, all in one transaction that takes
/// the write lock at once (<c>BEGIN IMMEDIATE</c>), so two processes starting on one file never run a script twice and a
/// failing script leaves the file as it was. Running it again on a current file runs nothing.
/// </summary>
internal sealed class SqliteMigrator(ILogger<SqliteMigrator>? logger = null)
{
    public const string JournalTable = "schema_versions";

    private const string ScriptPrefix = "Tollgate.Storage.Sqlite.Migrations.";

    /// <summary>The names of the migration scripts this build carries, in the order they run.</summary>
    public static IReadOnlyList<string> Scripts { get; } =
        [.. typeof(SqliteMigrator).Assembly.GetManifestResourceNames().Where(IsMigration).Order(StringComparer.Ordinal)];

    /// <summary>Runs the scripts <paramref name="database"/> lacks; returns their names (none when it was current).</summary>
    /// <exception cref="InvalidOperationException">A script failed; nothing of this run is kept.</exception>
    public IReadOnlyList<string> Migrate(SqliteDatabase database)
    {
        var upgrader = DeployChanges.To.SqliteDatabase(database.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(SqliteMigrator).Assembly, IsMigration)
            .WithScriptNameComparer(StringComparer.Ordinal)
            .JournalTo((connections, log) => new SqliteTableJournal(connections, log, JournalTable))
            .WithTransaction()
            .WithVariablesDisabled()
            .LogTo(new UpgradeLog((ILogger?)logger ?? NullLogger.Instance))
            .Build();
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException(
                $"The SQLite store could not be migrated: script {result.ErrorScript?.Name ?? "(none)"} failed: {result.Error?.Message}", result.Error);
        }
        IReadOnlyList<string> applied = [.. result.Scripts.Select(static (SqlScript s) => s.Name)];
        if (applied.Count > 0 && logger is not null)
        {
            logger.LogInformation("Migrated the SQLite store {DataSource}: ran {Scripts}",
                new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource, string.Join(", ", applied));
        }
        return applied;
    }

    /// <summary>DbUp's running commentary at Debug (a start on a current file says nothing); its warnings and errors as they are.</summary>
    private sealed class UpgradeLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => Write(LogLevel.Trace, null, format, args);

        public void LogDebug(string format, params object[] args) => Write(LogLevel.Debug, null, format, args);

        public void LogInformation(string format, params object[] args) => Write(LogLevel.Debug, null, format, args);

        public void LogWarning(string format, params object[] args) => Write(LogLevel.Warning, null, format, args);

        public void LogError(string format, params object[] args) => Write(LogLevel.Error, null, format, args);

        public void LogError(Exception ex, string format, params object[] args) => Write(LogLevel.Error, ex, format, args);

        private void Write(LogLevel level, Exception? ex, string format, object[] args)
        {
            if (logger.IsEnabled(level))
            {
                var message = args.Length == 0 ? format : string.Format(CultureInfo.InvariantCulture, format, args);
                logger.Log(level, ex, "{Message}", message);
            }
        }
    }

    private static bool IsMigration(string resourceName) =>
        resourceName.StartsWith(ScriptPrefix, StringComparison.Ordinal) && resourceName.EndsWith(".sql", StringComparison.Ordinal);
}
