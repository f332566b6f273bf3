using Dapper;
using Tollgate.Dubbing;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Relational.Jobs;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Many writers of one process at once, as 50–100 parallel dub workflows make them: each waits its turn in the
/// process's writer queue, none meets the file's lock, so none fails with <c>database is locked</c> whatever the busy
/// timeout. (Before the queue, each writer polled the file's lock — SQLite's busy handler, then Microsoft.Data.Sqlite's
/// retries, sleeping 150 ms on a pool thread between tries — in no order: under 100 parallel dub workflows some
/// waited past the 30 s timeout, a 500 on <c>POST /v1/me/dubs/{id}/preprocess</c>. Here the timeout is 1 s, which
/// polling writers overrun at 400.)
/// </summary>
public sealed class SqliteConcurrentWritersTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 5, 20, 9, 30, 0, TimeSpan.Zero);

    private const int Workflows = 400;

    private readonly TempStore _file = new();

    [Fact]
    public async Task FourHundredConcurrentWorkflows_NoWriterMeetsALockedDatabase()
    {
        var database = Open(TimeSpan.FromSeconds(1));
        var dubs = new SqlDubbingStore(database);
        var jobs = new SqlJobStore(database, TimeProvider.System);

        await Task.WhenAll(Enumerable.Range(0, Workflows).Select(i => Task.Run(async () =>
        {
            var dub = new Dub
            {
                Id = $"dub_{i:D4}",
                OrgId = "org_a",
                UserId = "usr_a",
                Name = $"talk {i}",
                TargetLanguage = "es",
                Status = DubStatus.New,
                CreatedAt = At,
                UpdatedAt = At,
            };
            await dubs.AddDubAsync(dub);
            var preprocessing = dub with { Status = DubStatus.Preprocessing, UpdatedAt = At.AddSeconds(1) };
            Assert.True(await dubs.UpdateDubAsync(preprocessing, DubStatus.New));
            await jobs.EnqueueAsync(new Tollgate.Jobs.NewJob($"job_{i:D4}", "dub", dub.Id, MaxAttempts: 3));
            Assert.True(await dubs.UpdateDubAsync(preprocessing with { Status = DubStatus.Preprocessed, InputDurationMs = 1000, RequiredCredits = 1 },
                DubStatus.Preprocessing));
        })));

        await using var c = await database.OpenAsync();
        Assert.Equal((long)Workflows, c.ExecuteScalar<long>("SELECT COUNT(*) FROM dubs WHERE status = 'preprocessed'"));
    }

    [Fact]
    public async Task AWriterWaitsForTheOneBefore_AndACancelledWaitTakesNoTurn()
    {
        var database = Open(TimeSpan.FromSeconds(30));
        var first = await database.OpenWriterAsync();
        using var cts = new CancellationTokenSource();
        var cancelled = database.OpenWriterAsync(cts.Token).AsTask();
        var second = database.OpenWriterAsync().AsTask();
        await Task.Delay(50);
        Assert.False(cancelled.IsCompleted);
        Assert.False(second.IsCompleted);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(second.IsCompleted);

        await first.DisposeAsync();
        await using var next = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1L, next.ExecuteScalar<long>("SELECT 1"));
    }

    private SqliteDatabase Open(TimeSpan busyTimeout)
    {
        var database = new SqliteDatabase(_file.ConnectionString, busyTimeout);
        new SqliteMigrator().Migrate(database);
        return database;
    }

    public void Dispose() => _file.Dispose();
}
