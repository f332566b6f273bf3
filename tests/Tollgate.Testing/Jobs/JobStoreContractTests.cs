using Microsoft.Extensions.Time.Testing;

namespace Tollgate.Jobs;

/// <summary>
/// What every <see cref="IJobStore"/> must do (SQLite now, PostgreSQL next): inherit and implement <see cref="CreateStore"/>.
/// Time comes from a <see cref="FakeTimeProvider"/>; nothing sleeps. Each test uses kinds of its own, so a store may be shared.
/// </summary>
public abstract class JobStoreContractTests
{
    protected static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    private IJobStore? _store;

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    protected IJobStore Store => _store ??= CreateStore(Time);

    /// <summary>A store reading time from <paramref name="time"/>.</summary>
    protected abstract IJobStore CreateStore(TimeProvider time);

    private readonly string _kind = "kind-" + Guid.NewGuid().ToString("N")[..8];

    private NewJob AJob(string? id = null, int maxAttempts = 3, DateTimeOffset? notBefore = null, string? kind = null) =>
        new(id ?? "job-" + Guid.NewGuid().ToString("N")[..12], kind ?? _kind, "subject-1", maxAttempts, notBefore);

    private async Task<Job> ClaimOneAsync(string holder, string? kind = null)
    {
        var claimed = await Store.ClaimAsync([kind ?? _kind], 1, holder, Ttl);
        return Assert.Single(claimed);
    }

    [Fact]
    public async Task Enqueue_StoresAQueuedJobDueNow_AndIsIdempotentPerId()
    {
        var job = AJob();
        Assert.True(await Store.EnqueueAsync(job));
        Assert.False(await Store.EnqueueAsync(job with { Subject = "something else", MaxAttempts = 9 }));

        var stored = await Store.GetAsync(job.Id);
        Assert.NotNull(stored);
        Assert.Equal((job.Id, _kind, "subject-1", JobState.Queued, 0, 3), (stored.Id, stored.Kind, stored.Subject, stored.State, stored.Attempts, stored.MaxAttempts));
        Assert.Equal(Time.GetUtcNow(), stored.NextAttemptAt);
        Assert.Equal(Time.GetUtcNow(), stored.CreatedAt);
        Assert.Null(stored.ClaimHolder);
        Assert.Null(stored.ClaimedUntil);
        Assert.Null(stored.LastError);
        Assert.Null(await Store.GetAsync("no-such-job"));
    }

    [Fact]
    public async Task Enqueue_RefusesAJobItCouldNotKeep()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.EnqueueAsync(AJob(id: "")));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.EnqueueAsync(AJob(id: new string('x', NewJob.MaxTextLength + 1))));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.EnqueueAsync(AJob(maxAttempts: 0)));
    }

    [Fact]
    public async Task Claim_TakesDueJobsOfTheGivenKindsOnly_OldestFirst_UpToMax()
    {
        var other = "other-" + _kind;
        var first = AJob(id: _kind + "-a");
        await Store.EnqueueAsync(first);
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = AJob(id: _kind + "-b");
        await Store.EnqueueAsync(second);
        Time.Advance(TimeSpan.FromSeconds(1));
        await Store.EnqueueAsync(AJob(id: _kind + "-c"));
        await Store.EnqueueAsync(AJob(kind: other));
        await Store.EnqueueAsync(AJob(notBefore: Time.GetUtcNow().AddMinutes(5)));

        var claimed = await Store.ClaimAsync([_kind], 2, "worker-1", Ttl);
        Assert.Equal([first.Id, second.Id], claimed.Select(j => j.Id));
        foreach (var job in claimed)
        {
            Assert.Equal(JobState.Running, job.State);
            Assert.Equal("worker-1", job.ClaimHolder);
            Assert.Equal(Time.GetUtcNow() + Ttl, job.ClaimedUntil);
            Assert.Equal(1, job.Attempts);
            Assert.Equal(job, await Store.GetAsync(job.Id));
        }
        Assert.Equal([_kind + "-c"], (await Store.ClaimAsync([_kind], 10, "worker-2", Ttl)).Select(j => j.Id));
        Assert.Empty(await Store.ClaimAsync([_kind], 10, "worker-2", Ttl)); // the last one is not due for 5 minutes
        Assert.Single(await Store.ClaimAsync([other, "nobody's"], 10, "worker-3", Ttl));
        Assert.Empty(await Store.ClaimAsync([], 10, "worker-3", Ttl));

        Assert.True(await Store.CompleteAsync(first.Id, "worker-1"));
        Assert.True(await Store.CompleteAsync(second.Id, "worker-1"));
        Assert.True(await Store.CompleteAsync(_kind + "-c", "worker-2"));
        Time.Advance(TimeSpan.FromMinutes(5));
        var late = Assert.Single(await Store.ClaimAsync([_kind], 10, "worker-2", Ttl));
        Assert.Equal(1, late.Attempts);
    }

    [Fact]
    public async Task AClaimedJob_IsNotClaimedAgain_UntilItsClaimExpires_ThenTheOldHolderCanChangeNothing()
    {
        var job = AJob();
        await Store.EnqueueAsync(job);
        await ClaimOneAsync("dead-worker");

        Time.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await Store.ClaimAsync([_kind], 10, "worker-2", Ttl));

        Time.Advance(TimeSpan.FromMilliseconds(1));
        var reclaimed = await ClaimOneAsync("worker-2");
        Assert.Equal(("worker-2", 2, JobState.Running), (reclaimed.ClaimHolder, reclaimed.Attempts, reclaimed.State));

        Assert.False(await Store.RenewAsync(job.Id, "dead-worker", Ttl));
        Assert.False(await Store.CompleteAsync(job.Id, "dead-worker"));
        Assert.Null(await Store.FailAsync(job.Id, "dead-worker", "late", TimeSpan.FromSeconds(1)));
        Assert.False(await Store.ReleaseAsync(job.Id, "dead-worker"));
        Assert.Equal(reclaimed, await Store.GetAsync(job.Id));
    }

    [Fact]
    public async Task Renew_KeepsTheClaim_ForAnotherTtlFromNow()
    {
        var job = AJob();
        await Store.EnqueueAsync(job);
        await ClaimOneAsync("worker-1");
        for (var i = 0; i < 5; i++)
        {
            Time.Advance(Ttl / 2);
            Assert.True(await Store.RenewAsync(job.Id, "worker-1", Ttl));
            Assert.Empty(await Store.ClaimAsync([_kind], 10, "worker-2", Ttl));
        }
        Assert.Equal(Time.GetUtcNow() + Ttl, (await Store.GetAsync(job.Id))!.ClaimedUntil);

        // A claim that expired but that nobody took is still its holder's to renew.
        Time.Advance(Ttl * 2);
        Assert.True(await Store.RenewAsync(job.Id, "worker-1", Ttl));
        Assert.Empty(await Store.ClaimAsync([_kind], 10, "worker-2", Ttl));
        Assert.False(await Store.RenewAsync("no-such-job", "worker-1", Ttl));
    }

    [Fact]
    public async Task Complete_EndsTheJob_AndItIsNeverClaimedAgain()
    {
        var job = AJob();
        await Store.EnqueueAsync(job);
        Assert.False(await Store.CompleteAsync(job.Id, "worker-1")); // not claimed yet
        await ClaimOneAsync("worker-1");
        Assert.True(await Store.CompleteAsync(job.Id, "worker-1"));
        Assert.False(await Store.CompleteAsync(job.Id, "worker-1"));

        var done = (await Store.GetAsync(job.Id))!;
        Assert.Equal((JobState.Succeeded, 1, null, null), (done.State, done.Attempts, done.ClaimHolder, done.ClaimedUntil));
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await Store.ClaimAsync([_kind], 10, "worker-2", Ttl));
        Assert.False(await Store.EnqueueAsync(job)); // and enqueuing it again does not revive it
    }

    [Fact]
    public async Task Fail_WithRetry_QueuesTheJobAgain_DueAfterTheDelay()
    {
        var job = AJob();
        await Store.EnqueueAsync(job);
        await ClaimOneAsync("worker-1");
        var retried = await Store.FailAsync(job.Id, "worker-1", "disk full", TimeSpan.FromSeconds(10));
        Assert.NotNull(retried);
        Assert.Equal((JobState.Queued, 1, "disk full", null), (retried.State, retried.Attempts, retried.LastError, retried.ClaimHolder));
        Assert.Equal(Time.GetUtcNow().AddSeconds(10), retried.NextAttemptAt);
        Assert.Equal(retried, await Store.GetAsync(job.Id));

        Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(await Store.ClaimAsync([_kind], 10, "worker-2", Ttl));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, (await ClaimOneAsync("worker-2")).Attempts);
    }

    [Fact]
    public async Task Fail_OnTheLastAttempt_OrWithoutRetry_FailsTheJobForGood()
    {
        var job = AJob(maxAttempts: 2);
        await Store.EnqueueAsync(job);
        await ClaimOneAsync("worker-1");
        Assert.Equal(JobState.Queued, (await Store.FailAsync(job.Id, "worker-1", "first", TimeSpan.Zero))!.State);
        await ClaimOneAsync("worker-1");
        var failed = await Store.FailAsync(job.Id, "worker-1", "second", TimeSpan.Zero);
        Assert.Equal((JobState.Failed, 2, "second", null), (failed!.State, failed.Attempts, failed.LastError, failed.ClaimHolder));
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await Store.ClaimAsync([_kind], 10, "worker-1", Ttl));

        var hopeless = AJob(maxAttempts: 10);
        await Store.EnqueueAsync(hopeless);
        await ClaimOneAsync("worker-1");
        var permanent = await Store.FailAsync(hopeless.Id, "worker-1", "cannot ever work", retryAfter: null);
        Assert.Equal((JobState.Failed, 1, "cannot ever work"), (permanent!.State, permanent.Attempts, permanent.LastError));
    }

    [Fact]
    public async Task Release_GivesTheJobBack_DueNow_WithoutSpendingTheAttempt()
    {
        var job = AJob(maxAttempts: 1);
        await Store.EnqueueAsync(job);
        await ClaimOneAsync("worker-1");
        Time.Advance(TimeSpan.FromSeconds(3));
        Assert.True(await Store.ReleaseAsync(job.Id, "worker-1"));
        var released = (await Store.GetAsync(job.Id))!;
        Assert.Equal((JobState.Queued, 0, null, null), (released.State, released.Attempts, released.ClaimHolder, released.ClaimedUntil));
        Assert.Equal(Time.GetUtcNow(), released.NextAttemptAt);
        Assert.False(await Store.ReleaseAsync(job.Id, "worker-1"));

        // Its only attempt is still there to spend.
        Assert.Equal(1, (await ClaimOneAsync("worker-2")).Attempts);
        Assert.Equal(JobState.Failed, (await Store.FailAsync(job.Id, "worker-2", "no", TimeSpan.Zero))!.State);
    }

    [Fact]
    public async Task ParallelClaimers_NeverGetTheSameJob_AndTogetherGetThemAll()
    {
        var ids = Enumerable.Range(0, 60).Select(i => $"{_kind}-{i:D2}").ToList();
        foreach (var id in ids)
        {
            await Store.EnqueueAsync(AJob(id: id));
        }
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var mine = new List<string>();
            while (true)
            {
                var batch = await Store.ClaimAsync([_kind], 3, $"worker-{w}", Ttl);
                if (batch.Count == 0)
                {
                    return mine;
                }
                Assert.All(batch, j => Assert.Equal($"worker-{w}", j.ClaimHolder));
                mine.AddRange(batch.Select(j => j.Id));
            }
        })));
        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(ids, all.Order(StringComparer.Ordinal));
        foreach (var (mine, worker) in claims.Select((c, w) => (c, w)))
        {
            foreach (var id in mine)
            {
                Assert.Equal($"worker-{worker}", (await Store.GetAsync(id))!.ClaimHolder);
            }
        }
    }

    [Fact]
    public async Task List_FiltersByKindStateAndSubject_OldestFirst()
    {
        var a = AJob(id: _kind + "-a");
        await Store.EnqueueAsync(a);
        Time.Advance(TimeSpan.FromSeconds(1));
        var b = AJob(id: _kind + "-b") with { Subject = "subject-2" };
        await Store.EnqueueAsync(b);
        await ClaimOneAsync("worker-1");

        Assert.Equal([a.Id, b.Id], (await Store.ListAsync(kind: _kind)).Select(j => j.Id));
        Assert.Equal([a.Id], (await Store.ListAsync(kind: _kind, state: JobState.Running)).Select(j => j.Id));
        Assert.Equal([b.Id], (await Store.ListAsync(kind: _kind, state: JobState.Queued)).Select(j => j.Id));
        Assert.Equal([b.Id], (await Store.ListAsync(kind: _kind, subject: "subject-2")).Select(j => j.Id));
        Assert.Equal([a.Id], (await Store.ListAsync(kind: _kind, limit: 1)).Select(j => j.Id));
        Assert.Empty(await Store.ListAsync(kind: "nobody's"));
    }
}
