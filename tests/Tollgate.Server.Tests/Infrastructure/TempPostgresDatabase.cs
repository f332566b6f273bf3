using Npgsql;
using Tollgate.Services;

namespace Tollgate.Infrastructure;

/// <summary>A database of its own on the test PostgreSQL server (TOLLGATE_TEST_POSTGRES), empty, dropped afterwards with whatever is connected to it.</summary>
public sealed class TempPostgresDatabase : IDisposable
{
    public TempPostgresDatabase()
    {
        Execute(TestPostgres.ConnectionString, $"CREATE DATABASE {Name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { Database = Name }.ConnectionString;
    }

    public string Name { get; } = "tg_" + Guid.NewGuid().ToString("N");

    /// <summary>The test server's connection string naming this database: what a node's <c>ConnectionStrings__Tollgate</c> is.</summary>
    public string ConnectionString { get; }

    /// <summary>One number the database answers, e.g. <c>SELECT COUNT(*) FROM usage_charges</c>.</summary>
    public long Scalar(string sql)
    {
        // Unpooled: a pooled session may have been terminated by TakeAway.
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Takes the database away from its clients as a PostgreSQL outage does, without touching the other tests' databases
    /// on the same server: every session on it is terminated and new ones are refused until <see cref="BringBack"/>.
    /// </summary>
    public void TakeAway()
    {
        Execute(TestPostgres.ConnectionString, $"ALTER DATABASE {Name} WITH ALLOW_CONNECTIONS false");
        Execute(TestPostgres.ConnectionString, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}'");
    }

    /// <summary>Accepts sessions on the database again.</summary>
    public void BringBack() => Execute(TestPostgres.ConnectionString, $"ALTER DATABASE {Name} WITH ALLOW_CONNECTIONS true");

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute(TestPostgres.ConnectionString, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
