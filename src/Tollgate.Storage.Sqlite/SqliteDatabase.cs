using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Tollgate.Storage.Relational;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (its tables are made by <see cref="SqliteMigrator"/>). Opens pooled
/// connections with what every Tollgate table relies on: foreign keys (<c>Foreign Keys=True</c>, set by
/// Microsoft.Data.Sqlite once per physical connection), waiting out a busy file for up to 30 s (SQLite's busy
/// handler, set through the C API on every open: no statement to prepare; it is for other processes, as this one's
/// writers queue in <see cref="OpenWriterAsync"/>) and a full fsync on commit so a kill -9
/// loses nothing committed (<c>synchronous=FULL</c>, SQLite's default, checked by a test rather than re-set). Running
/// the three as pragmas on every pooled open cost each store call a prepared statement.
/// </summary>
internal sealed class SqliteDatabase : SqlDatabase
{
    /// <summary>The writers of this process, one at a time (SQLite's own rule), queued in order.</summary>
    private readonly SemaphoreSlim _writer = new(1, 1);

    private readonly int _busyTimeoutMs;

    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string naming the file.</param>
    /// <param name="busyTimeout">
    /// How long a statement waits out a file another process is writing (SQLite's busy handler, then
    /// Microsoft.Data.Sqlite's retries up to its command timeout, in whole seconds); default 30 s.
    /// </param>
    public SqliteDatabase(string connectionString, TimeSpan? busyTimeout = null)
    {
        _busyTimeoutMs = (int)(busyTimeout ?? DefaultBusyTimeout).TotalMilliseconds;
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling((busyTimeout ?? DefaultBusyTimeout).TotalSeconds),
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

    /// <summary>
    /// A connection that holds this process's writer turn until it is disposed: the writers of one process queue on a
    /// <see cref="SemaphoreSlim"/> (in order, no thread held while waiting) and only the one at the head meets the file's
    /// lock, so the busy handler is left to wait out other processes.
    /// </summary>
    public override async ValueTask<DbConnection> OpenWriterAsync(CancellationToken ct = default)
    {
        await _writer.WaitAsync(ct).ConfigureAwait(false);
        var connection = new WriterConnection(ConnectionString, _writer);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            WaitWhenBusy(connection);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

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

    private static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    private void WaitWhenBusy(SqliteConnection connection) => SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, _busyTimeoutMs);

    /// <summary>A pooled connection that gives the writer turn back when it is disposed (once).</summary>
    private sealed class WriterConnection(string connectionString, SemaphoreSlim writer) : SqliteConnection(connectionString)
    {
        private int _released;

        protected override void Dispose(bool disposing)
        {
            try
            {
                base.Dispose(disposing);
            }
            finally
            {
                if (Interlocked.Exchange(ref _released, 1) == 0)
                {
                    writer.Release();
                }
            }
        }
    }
}
