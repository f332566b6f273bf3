using Dapper;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// What every table relies on, on every connection the store hands out — fresh from the pool or reused: WAL, foreign
/// keys enforced, a 30 s wait on a busy file, and a full fsync on commit (synchronous=FULL), so a kill -9 loses nothing
/// committed.
/// </summary>
public sealed class SqliteDatabaseSettingsTests : IDisposable
{
    private readonly TempStore _file = new();

    [Fact]
    public async Task EveryConnection_IsInWal_WithForeignKeys_AndAFullSyncOnCommit()
    {
        var database = _file.Open();
        for (var i = 0; i < 3; i++)
        {
            await using var pooled = await database.OpenAsync();
            Assert.Equal("wal", pooled.ExecuteScalar<string>("PRAGMA journal_mode"));
            Assert.Equal(1L, pooled.ExecuteScalar<long>("PRAGMA foreign_keys"));
            Assert.Equal(2L, pooled.ExecuteScalar<long>("PRAGMA synchronous"));
            Assert.Equal(30_000L, pooled.ExecuteScalar<long>("PRAGMA busy_timeout"));
            using var sync = database.Open();
            Assert.Equal(1L, sync.ExecuteScalar<long>("PRAGMA foreign_keys"));
            Assert.Equal(2L, sync.ExecuteScalar<long>("PRAGMA synchronous"));
            Assert.Equal(30_000L, sync.ExecuteScalar<long>("PRAGMA busy_timeout"));
        }
    }

    public void Dispose() => _file.Dispose();
}
