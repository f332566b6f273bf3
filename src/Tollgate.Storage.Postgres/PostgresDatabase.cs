using System.Data;
using System.Data.Common;
using Npgsql;
using Tollgate.Storage.Relational;

namespace Tollgate.Storage.Postgres;

/// <summary>
/// The distributed store: one PostgreSQL database shared by every gateway node (its tables are made by
/// <see cref="PostgresMigrator"/>), reached through one pooled <see cref="NpgsqlDataSource"/>. Commits are durable
/// before they return (PostgreSQL's default <c>synchronous_commit</c>), so a kill -9 of a node loses nothing committed.
/// </summary>
internal sealed class PostgresDatabase : SqlDatabase, IDisposable
{
    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ArgumentException("The PostgreSQL connection string names no server (Host=…).", nameof(connectionString));
        }
        if (string.IsNullOrWhiteSpace(builder.Database))
        {
            throw new ArgumentException("The PostgreSQL connection string names no database (Database=…).", nameof(connectionString));
        }
        ConnectionString = builder.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>Where the database is, for messages: host, port and database, never the credentials.</summary>
    public string Describe() => Describe(ConnectionString);

    /// <summary>Where <paramref name="connectionString"/> points: host, port and database, never the credentials.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct = default) =>
        await DataSource.OpenConnectionAsync(ct).ConfigureAwait(false);

    /// <summary>
    /// A read-committed transaction that first takes a transaction-scoped advisory lock on <paramref name="scope"/>
    /// (<c>pg_advisory_xact_lock</c>), released by its commit or rollback: competitors of the same scope, on any node,
    /// wait for it, and each statement after the lock sees what the previous holder committed.
    /// </summary>
    public override async Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string scope, CancellationToken ct = default)
    {
        var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended(@scope, 0))", (NpgsqlConnection)connection, (NpgsqlTransaction)tx);
            command.Parameters.AddWithValue("scope", scope);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return tx;
        }
        catch
        {
            await tx.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A <c>timestamptz</c> parameter: the UTC instant to the millisecond (PostgreSQL would keep microseconds).</summary>
    public override object Time(DateTimeOffset at) => Timestamps.ToMillisecond(at).UtcDateTime;

    /// <summary>Npgsql reads a <c>timestamptz</c> as a UTC <see cref="DateTime"/>.</summary>
    public override DateTimeOffset ReadTime(object stored) => stored switch
    {
        DateTime utc => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)),
        DateTimeOffset at => at.ToUniversalTime(),
        _ => throw new FormatException($"A stored time was read as {stored.GetType().Name}, not a timestamptz."),
    };

    public override string InList(string column, string parameter) => $"{column} = ANY({parameter})";

    public override string ClaimLock => "FOR UPDATE SKIP LOCKED";

    public override string InsertionOrder => "seq";

    public override string UtcDay(string column) => $"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')";

    public void Dispose() => DataSource.Dispose();
}
