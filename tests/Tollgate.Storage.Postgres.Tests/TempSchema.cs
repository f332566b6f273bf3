using Npgsql;
using Tollgate.Services;

namespace Tollgate.Storage.Postgres;

/// <summary>
/// A schema of its own on the test server for one test (the tables, the journal and the trigger function are made in
/// it through the connection's search path), migrated as start-up does, and dropped with everything in it afterwards.
/// </summary>
public sealed class TempSchema : IDisposable
{
    private readonly List<PostgresDatabase> _opened = [];

    public TempSchema()
    {
        using var connection = new NpgsqlConnection(TestPostgres.ConnectionString);
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE SCHEMA {Name}", connection);
        create.ExecuteNonQuery();
        ConnectionString = new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { SearchPath = Name }.ConnectionString;
    }

    public string Name { get; } = "t_" + Guid.NewGuid().ToString("N");

    /// <summary>The test server's connection string with this schema as its search path.</summary>
    public string ConnectionString { get; }

    /// <summary>The database, migrated to the current schema as start-up does (each call its own pool, as another node's).</summary>
    internal PostgresDatabase Open()
    {
        var database = Unmigrated();
        new PostgresMigrator().Migrate(database);
        return database;
    }

    /// <summary>The database with nothing run on it yet.</summary>
    internal PostgresDatabase Unmigrated()
    {
        var database = new PostgresDatabase(ConnectionString);
        lock (_opened)
        {
            _opened.Add(database);
        }
        return database;
    }

    public void Dispose()
    {
        lock (_opened)
        {
            foreach (var database in _opened)
            {
                database.Dispose();
            }
        }
        using var connection = new NpgsqlConnection(TestPostgres.ConnectionString);
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP SCHEMA {Name} CASCADE", connection);
        drop.ExecuteNonQuery();
    }
}
