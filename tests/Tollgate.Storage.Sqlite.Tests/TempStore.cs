using Microsoft.Data.Sqlite;

namespace Tollgate.Storage.Sqlite;

/// <summary>A real SQLite file (WAL, migrated) in a fresh temp folder, deleted with the folder afterwards.</summary>
public sealed class TempStore : IDisposable
{
    public TempStore()
    {
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "tollgate-sqlite-tests", Guid.NewGuid().ToString("N"));

    public string File => Path.Combine(Folder, "tollgate.db");

    public string ConnectionString => $"Data Source={File}";

    /// <summary>The database, migrated to the current schema as start-up does.</summary>
    internal SqliteDatabase Open()
    {
        var database = new SqliteDatabase(ConnectionString);
        new SqliteMigrator().Migrate(database);
        return database;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}
