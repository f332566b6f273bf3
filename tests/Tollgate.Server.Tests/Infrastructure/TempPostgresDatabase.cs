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
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

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
