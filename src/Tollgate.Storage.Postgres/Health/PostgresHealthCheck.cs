using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Tollgate.Storage.Postgres.Health;

/// <summary>
/// Readiness of the distributed store: a connection from the node's pool answers a query. Unhealthy when the server
/// refuses, rejects the credentials or does not answer within the check's timeout; the message names host, port and
/// database, never the password.
/// </summary>
internal sealed class PostgresHealthCheck(PostgresDatabase database) : IHealthCheck
{
    /// <summary>The name the check is registered under (in <c>/readyz</c>'s answer).</summary>
    public const string Name = "postgresql";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = database.DataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"the PostgreSQL database {database.Describe()}");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"the PostgreSQL database {database.Describe()} does not answer: {ex.Message}");
        }
    }
}
