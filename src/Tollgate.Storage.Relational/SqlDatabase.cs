using System.Data.Common;

namespace Tollgate.Storage.Relational;

/// <summary>
/// The seam between the stores of this project and a database engine. The stores' SQL is written once, in what SQLite
/// and PostgreSQL both run (<c>INSERT … ON CONFLICT</c>, <c>UPDATE … RETURNING</c>, <c>LIMIT</c>, <c>CASE</c>); the few
/// things the two engines genuinely do differently are the members of this class, and nothing else: how a connection
/// is opened, how a transaction is made to serialize with its competitors, how a time is kept, how a column is matched
/// against a list, and how rows being claimed are kept from a concurrent claimer. The schema is the engine's own (its
/// migrations), with the same tables and columns.
/// </summary>
internal abstract class SqlDatabase
{
    /// <summary>An open connection from the engine's pool; the caller disposes it.</summary>
    public abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct = default);

    /// <summary>
    /// Begins a transaction that serializes with every other one begun here with the same <paramref name="scope"/>:
    /// what it reads stays true until it commits, so a check-then-write inside it (the credit check before a charge)
    /// cannot be overtaken by a competitor's write. SQLite takes its single write lock (<c>BEGIN IMMEDIATE</c>);
    /// PostgreSQL a transaction-scoped advisory lock on the scope.
    /// </summary>
    public abstract Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string scope, CancellationToken ct = default);

    /// <summary>The parameter value a time is stored as, to the millisecond in UTC (text in SQLite, <c>timestamptz</c> in PostgreSQL).</summary>
    public abstract object Time(DateTimeOffset at);

    /// <summary>A stored time, as the engine's reader returned it, back as a UTC <see cref="DateTimeOffset"/>.</summary>
    public abstract DateTimeOffset ReadTime(object stored);

    /// <summary>A stored time that may be NULL.</summary>
    public DateTimeOffset? ReadNullableTime(object? stored) => stored is null or DBNull ? null : ReadTime(stored);

    /// <summary>
    /// The condition "<paramref name="column"/> is one of the values of the list parameter <paramref name="parameter"/>"
    /// (Dapper expands <c>IN @list</c> for SQLite; for PostgreSQL it passes an array, which needs <c>= ANY(@list)</c>).
    /// </summary>
    public abstract string InList(string column, string parameter);

    /// <summary>
    /// What follows the <c>LIMIT</c> of the sub-select that picks jobs to claim so that a concurrent claimer passes the
    /// picked rows by instead of claiming them too: nothing in SQLite (one writer at a time), <c>FOR UPDATE SKIP
    /// LOCKED</c> in PostgreSQL.
    /// </summary>
    public abstract string ClaimLock { get; }

    /// <summary>The column that orders <c>usage_charges</c> rows as they were written (SQLite's <c>rowid</c>, PostgreSQL's identity column).</summary>
    public abstract string InsertionOrder { get; }

    /// <summary>
    /// The UTC calendar day of the stored time <paramref name="column"/> as <c>YYYY-MM-DD</c> text, to group by
    /// (SQLite keeps ISO 8601 text, whose first ten characters are the day; PostgreSQL formats its <c>timestamptz</c> in UTC).
    /// </summary>
    public abstract string UtcDay(string column);
}
