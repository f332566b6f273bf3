using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tollgate.Storage.Sqlite.Health;

/// <summary>
/// Readiness of the embedded store: a new connection (not a pooled one, which would keep working on a file that has
/// since been deleted or unmounted) opens the SQLite file without creating it and reads its schema. Unhealthy when the
/// file is gone, unreadable, not a database, or does not answer within the check's timeout.
/// </summary>
internal sealed class SqliteHealthCheck(SqliteDatabase database) : IHealthCheck
{
    /// <summary>The name the check is registered under (in <c>/readyz</c>'s answer).</summary>
    public const string Name = "sqlite";

    /// <summary>The tag of the checks <c>/readyz</c> runs: each store registers its own check with it.</summary>
    public const string ReadinessTag = "ready";

    private readonly string _probe = ProbeConnectionString(database.ConnectionString);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = new SqliteConnection(_probe);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master;";
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(Describe());
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"{Describe()} cannot be read: {ex.Message}");
        }
    }

    private string Describe()
    {
        var builder = new SqliteConnectionStringBuilder(_probe);
        return builder.Mode == SqliteOpenMode.Memory ? "the in-memory SQLite store" : $"the SQLite file {builder.DataSource}";
    }

    private static string ProbeConnectionString(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.Mode != SqliteOpenMode.Memory && builder.DataSource != ":memory:")
        {
            builder.Pooling = false;
            builder.Mode = SqliteOpenMode.ReadWrite;
            builder.DefaultTimeout = 5;
        }
        return builder.ToString();
    }
}
