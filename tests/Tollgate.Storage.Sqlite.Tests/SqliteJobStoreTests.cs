using Microsoft.Data.Sqlite;
using Tollgate.Jobs;
using Tollgate.Storage.Relational.Jobs;

namespace Tollgate.Storage.Sqlite;

/// <summary>The job store contract on a real SQLite file, and what only a file adds: jobs outlive the process that wrote them.</summary>
public sealed class SqliteJobStoreTests : JobStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IJobStore CreateStore(TimeProvider time) => new SqlJobStore(_file.Open(), time);

    public void Dispose() => _file.Dispose();

    [Fact]
    public async Task AJobClaimedByAProcessThatDied_IsThereForTheNextOne_OnceItsClaimExpires()
    {
        var job = new NewJob("dub_1:generate", "dub", "dub_1", 5);
        await Store.EnqueueAsync(job);
        Assert.Single(await Store.ClaimAsync(["dub"], 1, "first-process", Ttl));

        // A new process opens the same file: the job is still claimed by the first until its claim runs out.
        SqliteConnection.ClearAllPools();
        var next = CreateStore(Time);
        var stored = await next.GetAsync(job.Id);
        Assert.Equal((JobState.Running, "first-process", 1), (stored!.State, stored.ClaimHolder, stored.Attempts));
        Assert.Empty(await next.ClaimAsync(["dub"], 1, "second-process", Ttl));
        Time.Advance(Ttl);
        var resumed = Assert.Single(await next.ClaimAsync(["dub"], 1, "second-process", Ttl));
        Assert.Equal((job.Id, "second-process", 2), (resumed.Id, resumed.ClaimHolder, resumed.Attempts));
    }

    [Fact]
    public async Task ClaimersOnSeparateConnectionsToOneFile_NeverGetTheSameJob()
    {
        for (var i = 0; i < 40; i++)
        {
            await Store.EnqueueAsync(new NewJob($"job-{i:D2}", "platform", $"subject-{i}", 3));
        }
        // Two stores, each its own SqliteDatabase and pool, as two server processes on one file would be.
        var stores = new[] { CreateStore(Time), new SqlJobStore(new SqliteDatabase(_file.ConnectionString + ";Pooling=False"), Time) };
        var claimed = await Task.WhenAll(Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var mine = new List<string>();
            IReadOnlyList<Job> batch;
            while ((batch = await stores[w % 2].ClaimAsync(["platform"], 2, $"node-{w}", Ttl)).Count > 0)
            {
                mine.AddRange(batch.Select(j => j.Id));
            }
            return mine;
        })));
        var all = claimed.SelectMany(c => c).ToList();
        Assert.Equal(40, all.Count);
        Assert.Equal(40, all.Distinct().Count());
    }
}
