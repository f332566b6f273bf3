using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Tollgate.Storage.Relational;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (its tables are made by <see cref="SqliteMigrator"/>). Opens pooled
/// connections with what every Tollgate table relies on: foreign keys (<c>Foreign Keys=True</c>, set by
/// Microsoft.Data.Sqlite once per physical connection), waiting out a busy file for up to 30 s (SQLite's busy
/// handler, set through the C API on every open: no statement to prepare) and a full fsync on commit so a kill -9
/// loses nothing committed (<c>synchronous=FULL</c>, SQLite's default, checked by a test rather than re-set). Running
/// the three as pragmas on every pooled open cost each store call a prepared statement.
/// </summary>
internal sealed class SqliteDatabase : SqlDatabase
{
    public SqliteDatabase(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            Pooling = true,
            DefaultTimeout = 30,
            ForeignKeys = true,
        };
        if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource))
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }
        }
        ConnectionString = builder.ToString();
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    public string ConnectionString { get; }

    /// <summary>
    /// <paramref name="connectionString"/> with a relative file resolved against <paramref name="dataDirectory"/>
    /// (<c>Data Source=tollgate.db</c> is <c>{dataDirectory}/tollgate.db</c>); an absolute file and
    /// <c>Mode=Memory</c> stay as given.
    /// </summary>
    /// <exception cref="ArgumentException">The string is not one Microsoft.Data.Sqlite reads, or names no file.</exception>
    public static string Resolve(string connectionString, string dataDirectory)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource == ":memory:")
        {
            return builder.ToString();
        }
        if (string.IsNullOrWhiteSpace(builder.DataSource))
        {
            throw new ArgumentException("The SQLite connection string names no file (Data Source=…).", nameof(connectionString));
        }
        if (!Path.IsPathRooted(builder.DataSource))
        {
            builder.DataSource = Path.Combine(dataDirectory, builder.DataSource);
        }
        return builder.ToString();
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        WaitWhenBusy(connection);
        return connection;
    }

    public async Task<SqliteConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        WaitWhenBusy(connection);
        return connection;
    }

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct = default) => await OpenAsync(ct).ConfigureAwait(false);

    /// <summary>SQLite has one writer at a time: <c>BEGIN IMMEDIATE</c> takes the file's write lock at once, whatever the scope.</summary>
    public override async Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string scope, CancellationToken ct = default) =>
        await connection.BeginTransactionAsync(IsolationLevel.Serializable, ct).ConfigureAwait(false);

    /// <summary>ISO 8601 text (<see cref="StoreTime"/>), which sorts as time does.</summary>
    public override object Time(DateTimeOffset at) => StoreTime.ToText(at);

    public override DateTimeOffset ReadTime(object stored) => StoreTime.Parse((string)stored);

    public override string InList(string column, string parameter) => $"{column} IN {parameter}";

    public override string ClaimLock => "";

    public override string InsertionOrder => "rowid";

    public override string UtcDay(string column) => $"substr({column}, 1, 10)";

    private const int BusyTimeoutMs = 30_000;

    private static void WaitWhenBusy(SqliteConnection connection) => SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, BusyTimeoutMs);
}
