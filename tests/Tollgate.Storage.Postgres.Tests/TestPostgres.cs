using Npgsql;

namespace Tollgate.Storage.Postgres;

/// <summary>
/// The PostgreSQL server the tests run against: <c>TOLLGATE_TEST_POSTGRES</c>, an Npgsql connection string of a role
/// that may create schemas and databases (scripts/test.sh starts a throwaway server and sets it). Without it a test
/// fails with that said, rather than passing without having run.
/// </summary>
public static class TestPostgres
{
    public const string Variable = "TOLLGATE_TEST_POSTGRES";

    /// <exception cref="InvalidOperationException">The variable is not set.</exception>
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set, so the PostgreSQL tests cannot run: run ./scripts/test.sh (it installs and starts PostgreSQL on "
                + $"127.0.0.1 and sets it), or set it to a server of yours, e.g. {Variable}='Host=127.0.0.1;Port=5432;Database=postgres;Username=postgres;Password=…'.");
}

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
