using System.Globalization;
using System.Reflection;
using DbUp.Builder;
using DbUp.Engine;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tollgate.Storage.Relational;

/// <summary>
/// How each engine's schema is versioned: DbUp runs the scripts embedded as <c>{prefix}NNNN_name.sql</c> that the
/// journal does not list yet, in name order, all in one transaction (a failing script leaves the database as it was),
/// with DbUp's variable substitution off (a script is plain SQL). The engine supplies DbUp's builder for its database
/// and journal, and whatever keeps two processes from migrating at once.
/// </summary>
internal static class SchemaMigration
{
    /// <summary>The embedded migration scripts under <paramref name="prefix"/>, in the order they run.</summary>
    public static IReadOnlyList<string> Scripts(Assembly assembly, string prefix) =>
        [.. assembly.GetManifestResourceNames().Where(n => IsMigration(n, prefix)).Order(StringComparer.Ordinal)];

    /// <summary>Runs the scripts the database lacks; returns their names (none when it was current).</summary>
    /// <param name="store">The store's name in messages ("SQLite", "PostgreSQL").</param>
    /// <exception cref="InvalidOperationException">A script failed; nothing of this run is kept.</exception>
    public static IReadOnlyList<string> Run(UpgradeEngineBuilder builder, Assembly assembly, string prefix, string store, ILogger? logger)
    {
        var upgrader = builder
            .WithScriptsEmbeddedInAssembly(assembly, n => IsMigration(n, prefix))
            .WithScriptNameComparer(StringComparer.Ordinal)
            .WithTransaction()
            .WithVariablesDisabled()
            .LogTo(new UpgradeLog(logger ?? NullLogger.Instance))
            .Build();
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException(
                $"The {store} store could not be migrated: script {result.ErrorScript?.Name ?? "(none)"} failed: {result.Error?.Message}", result.Error);
        }
        return [.. result.Scripts.Select(static (SqlScript s) => s.Name)];
    }

    private static bool IsMigration(string resourceName, string prefix) =>
        resourceName.StartsWith(prefix, StringComparison.Ordinal) && resourceName.EndsWith(".sql", StringComparison.Ordinal);

    /// <summary>DbUp's running commentary at Debug (a start on a current database says nothing); its warnings and errors as they are.</summary>
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
}
