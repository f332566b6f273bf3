using System.Data.Common;
using Tollgate.Storage.Postgres;
using Tollgate.Storage.Sqlite;

namespace Tollgate.Server.Hosting;

/// <summary>
/// The folder Tollgate keeps its data in (<c>Tollgate:DataDirectory</c>, default <c>./data</c>): the SQLite file when the
/// connection string names a relative one, the dubbing files, the first-start sample and the upload spool unless
/// <c>Tollgate:SpoolDirectory</c> names another. A relative setting is resolved against the working directory the
/// server is started from (never the folder of its binary), so <c>dotnet run</c> in Debug and in Release, and the
/// published binary started from the same place, all use one store.
/// </summary>
internal sealed record DataDirectory(string Path)
{
    public const string Setting = "Tollgate:DataDirectory";
    public const string Default = "data";

    /// <param name="workingDirectory">What a relative setting is resolved against (default: the process's current directory).</param>
    public static DataDirectory Resolve(IConfiguration configuration, string? workingDirectory = null)
    {
        var configured = configuration[Setting] is { Length: > 0 } value ? value : Default;
        return new DataDirectory(System.IO.Path.GetFullPath(configured, workingDirectory ?? Environment.CurrentDirectory));
    }
}

/// <summary>Where the store is, in words for the start-up log and the first-start banner (each store registers its own; no secrets).</summary>
internal sealed record StoreLocation(string Description);

/// <summary>Chooses the store by <c>ConnectionStrings:Tollgate</c> and registers it: the only place the host names a storage project.</summary>
internal static class StorageServiceCollectionExtensions
{
    public const string ConnectionStringSetting = "ConnectionStrings:Tollgate";

    /// <summary>The store when no connection string is configured: a SQLite file in the data directory.</summary>
    public const string DefaultConnectionString = "Data Source=tollgate.db";

    /// <summary>
    /// Registers the <see cref="DataDirectory"/> and the store <c>ConnectionStrings:Tollgate</c> names: a SQLite
    /// connection string (<c>Data Source=…</c>; a relative file lives in the data directory) selects the embedded store,
    /// a PostgreSQL one (<c>Host=…;Port=…;Database=…;Username=…;Password=…</c>) the distributed store. Uploaded audio
    /// and dubbing files stay in the data directory either way (with several nodes: a folder they share).
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection string selects no store this build has, or not one it can open.</exception>
    public static IServiceCollection AddTollgateStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var data = DataDirectory.Resolve(configuration);
        services.AddSingleton(data);
        var connectionString = configuration.GetConnectionString("Tollgate") is { Length: > 0 } configured ? configured : DefaultConnectionString;
        // The value itself is never repeated in a message: a server connection string carries a password.
        switch (Select(connectionString))
        {
            case Store.Sqlite:
                try
                {
                    services.AddSqliteStorage(connectionString, data.Path);
                    services.AddSingleton(new StoreLocation("SQLite file " + new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(SqliteDatabase.Resolve(connectionString, data.Path)).DataSource));
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidOperationException($"{ConnectionStringSetting} is not a SQLite connection string this server can open: {ex.Message}", ex);
                }
                break;
            case Store.Postgres:
                try
                {
                    services.AddPostgresStorage(connectionString, data.Path);
                    services.AddSingleton(new StoreLocation("PostgreSQL database " + PostgresDatabase.Describe(connectionString)));
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidOperationException($"{ConnectionStringSetting} is not a PostgreSQL connection string this server can open: {ex.Message}", ex);
                }
                break;
            default:
                throw new InvalidOperationException(
                    $"{ConnectionStringSetting} selects no store this server has: use a SQLite connection string such as 'Data Source=tollgate.db' "
                    + $"(a relative file is kept in {DataDirectory.Setting}, here {data.Path}) or a PostgreSQL one such as "
                    + "'Host=db.internal;Port=5432;Database=tollgate;Username=tollgate;Password=…'.");
        }
        return services;
    }

    private enum Store
    {
        None,
        Sqlite,
        Postgres,
    }

    /// <summary>
    /// Which store <paramref name="connectionString"/> is written for: <c>Data Source</c> (or <c>DataSource</c>,
    /// <c>Filename</c>) is SQLite's form, <c>Host</c> (or <c>Server</c>) PostgreSQL's.
    /// </summary>
    private static Store Select(string connectionString)
    {
        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = connectionString;
        }
        catch (ArgumentException)
        {
            return Store.None;
        }
        if (builder.ContainsKey("Data Source") || builder.ContainsKey("DataSource") || builder.ContainsKey("Filename"))
        {
            return Store.Sqlite;
        }
        return builder.ContainsKey("Host") || builder.ContainsKey("Server") ? Store.Postgres : Store.None;
    }
}
