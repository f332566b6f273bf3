using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Relational.Jobs;

namespace Tollgate.Jobs;

/// <summary>
/// The job engine over the real SQLite job store, its clock a <see cref="FakeTimeProvider"/>: leases, polls and backoff
/// pass only when a test advances time. Tests wait (in real time, bounded) only for the engine's own asynchronous progress.
/// </summary>
public sealed class JobEngineTests : IAsyncLifetime
{
    private const string Kind = "test";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string _dbPath = Path.Combine(Path.GetTempPath(), $"tollgate-engine-{Guid.NewGuid():N}.db");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private readonly JobWakeSignal _wake = new();
    private readonly RecordedEvents _events = new();
    private readonly List<RunningEngine> _engines = [];
    private SqlJobStore _store = null!;

    private JobOptions Options { get; } = new() { Workers = 2, PollSeconds = 2, LeaseSeconds = 30, MaxAttempts = 3, RetrySeconds = 2, MaxRetrySeconds = 60 };

    public Task InitializeAsync()
    {
        var database = new SqliteDatabase($"Data Source={_dbPath}");
        new SqliteMigrator().Migrate(database);
        _store = new SqlJobStore(database, _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.StopAsync();
        }
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_dbPath) + "*"))
        {
            File.Delete(file);
        }
    }

    private JobQueue Queue => new(_store, _wake, Options);

    private RunningEngine Start(params IJobHandler[] handlers) => Start(_store, handlers);

    private RunningEngine Start(IJobStore store, params IJobHandler[] handlers)
    {
        var engine = new JobEngine(store, handlers, _wake, Options, _time, _events);
        var stop = new CancellationTokenSource();
        var running = new RunningEngine(engine, engine.RunAsync(stop.Token), stop);
        _engines.Add(running);
        return running;
    }

    private async Task<Job> JobAsync(string id) => (await _store.GetAsync(id))!;

    /// <summary>Waits (real time, bounded) until <paramref name="condition"/> holds, advancing the fake clock by <paramref name="advance"/> between looks.</summary>
    private async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? advance = null)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < Patience, $"Gave up waiting for {what}.");
            if (advance is { } step)
            {
                _time.Advance(step);
            }
            await Task.Delay(5);
        }
    }

    private Task JobStateAsync(string id, JobState state, TimeSpan? advance = null) =>
        EventuallyAsync(async () => (await _store.GetAsync(id))?.State == state, $"{id} to be {state}", advance);

    [Fact]
    public async Task AnEnqueuedJob_RunsAtOnce_WithoutWaitingForThePoll()
    {
        Options.PollSeconds = 3600;
        var ran = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(new TestHandler(Kind, _time, (job, _) =>
        {
            ran.TrySetResult(job);
            return Task.FromResult(JobOutcome.Done);
        }));

        Assert.True(await Queue.EnqueueAsync("job-1", Kind, "subject-1", CancellationToken.None));
        var job = await ran.Task.WaitAsync(Patience); // the clock never moved: the signal woke the engine
        Assert.Equal(("job-1", "subject-1", 1), (job.Id, job.Subject, job.Attempts));
        await JobStateAsync("job-1", JobState.Succeeded);
    }

    [Fact]
    public async Task AJobNobodySignalled_RunsAtTheNextPoll()
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(new TestHandler(Kind, _time, (_, _) =>
        {
            ran.TrySetResult();
            return Task.FromResult(JobOutcome.Done);
        }));
        // Enqueued by another node: straight into the store, no signal here.
        await _store.EnqueueAsync(new NewJob("job-1", Kind, "subject-1", 3));
        var start = _time.GetUtcNow();
        await EventuallyAsync(() => Task.FromResult(ran.Task.IsCompleted), "the poll to find the job", advance: TimeSpan.FromMilliseconds(250));
        Assert.InRange(_time.GetUtcNow() - start, TimeSpan.Zero, Options.Poll * 2);
    }

    [Fact]
    public async Task TwoEnginesOnOneStore_RunEveryJobExactlyOnce()
    {
        Options.Workers = 4;
        var runs = new ConcurrentDictionary<string, int>();
        var holders = new ConcurrentDictionary<string, string>();
        TestHandler Handler() => new(Kind, _time, async (job, _) =>
        {
            runs.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
            holders[job.Id] = job.ClaimHolder!;
            await Task.Yield();
            return JobOutcome.Done;
        });
        var a = Start(Handler());
        // The second engine has a store (and connection pool) of its own, as another process on the same file would.
        var b = Start(new SqlJobStore(new SqliteDatabase($"Data Source={_dbPath};Pooling=False"), _time), Handler());
        Assert.NotEqual(a.Engine.Holder, b.Engine.Holder);
        var ids = Enumerable.Range(0, 40).Select(i => $"job-{i:D2}").ToList();
        foreach (var id in ids)
        {
            await Queue.EnqueueAsync(id, Kind, id, CancellationToken.None); // both engines wake on each
        }
        await EventuallyAsync(async () => (await _store.ListAsync(kind: Kind, state: JobState.Succeeded)).Count == ids.Count, "every job to succeed");
        Assert.Equal(ids, runs.Keys.Order(StringComparer.Ordinal));
        Assert.All(runs.Values, n => Assert.Equal(1, n));
        Assert.All(holders.Values, h => Assert.Contains(h, new[] { a.Engine.Holder, b.Engine.Holder }));
    }

    [Fact]
    public async Task AtMostWorkersJobsRunAtOnce()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        var most = 0;
        Start(new TestHandler(Kind, _time, async (_, ct) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            await release.Task.WaitAsync(ct);
            Interlocked.Decrement(ref inFlight);
            return JobOutcome.Done;
        }));
        for (var i = 0; i < 5; i++)
        {
            await Queue.EnqueueAsync($"job-{i}", Kind, "s", CancellationToken.None);
        }
        await EventuallyAsync(() => Task.FromResult(Volatile.Read(ref inFlight) == 2), "two jobs to be running");
        Assert.Equal(2, (await _store.ListAsync(kind: Kind, state: JobState.Running)).Count);
        Assert.Equal(3, (await _store.ListAsync(kind: Kind, state: JobState.Queued)).Count);

        release.SetResult();
        await EventuallyAsync(async () => (await _store.ListAsync(kind: Kind, state: JobState.Succeeded)).Count == 5, "every job to succeed");
        Assert.Equal(2, most);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public async Task AJobWhoseWorkerDied_IsTakenAgain_OnceItsClaimExpires()
    {
        await _store.EnqueueAsync(new NewJob("job-1", Kind, "subject-1", 3));
        // A node claimed it and was killed: nobody renews its claim.
        Assert.Single(await _store.ClaimAsync([Kind], 1, "killed-node", Options.Lease));
        var claimedAt = _time.GetUtcNow();
        var ran = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(new TestHandler(Kind, _time, (job, _) =>
        {
            ran.TrySetResult(job);
            return Task.FromResult(JobOutcome.Done);
        }));

        await EventuallyAsync(() => Task.FromResult(ran.Task.IsCompleted), "the expired claim to be taken", advance: TimeSpan.FromSeconds(1));
        var job = await ran.Task;
        Assert.True(_time.GetUtcNow() - claimedAt >= Options.Lease, "taken only once the dead node's claim had expired");
        Assert.NotEqual("killed-node", job.ClaimHolder);
        Assert.Equal(2, job.Attempts);
        await JobStateAsync("job-1", JobState.Succeeded);
    }

    [Fact]
    public async Task ARunningJob_KeepsItsClaimByRenewing_SoNoOtherWorkerTakesIt()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = Start(new TestHandler(Kind, _time, async (_, ct) =>
        {
            started.TrySetResult();
            await release.Task.WaitAsync(ct);
            return JobOutcome.Done;
        }));
        await Queue.EnqueueAsync("job-1", Kind, "subject-1", CancellationToken.None);
        await started.Task.WaitAsync(Patience);

        // Ten lease lengths pass; after each renewal interval the claim again reaches a full lease ahead.
        for (var i = 0; i < 30; i++)
        {
            _time.Advance(Options.RenewalInterval);
            var due = _time.GetUtcNow() + Options.Lease;
            await EventuallyAsync(async () => (await JobAsync("job-1")).ClaimedUntil == due, "the claim to be renewed");
            Assert.Empty(await _store.ClaimAsync([Kind], 1, "another-node", Options.Lease));
        }
        Assert.Equal(running.Engine.Holder, (await JobAsync("job-1")).ClaimHolder);
        release.SetResult();
        await JobStateAsync("job-1", JobState.Succeeded);
        Assert.Equal(1, (await JobAsync("job-1")).Attempts);
        Assert.Empty(_events.Lost);
    }

    [Fact]
    public async Task AFailingJob_IsRetriedWithExponentialBackoff_UntilItSucceeds()
    {
        Options.PollSeconds = 0.25;
        var handler = new TestHandler(Kind, _time, (job, _) => job.Attempts < 3
            ? throw new IOException($"disk hiccup {job.Attempts}")
            : Task.FromResult(JobOutcome.Done));
        Start(handler);
        await Queue.EnqueueAsync("job-1", Kind, "subject-1", CancellationToken.None);
        await JobStateAsync("job-1", JobState.Succeeded, advance: TimeSpan.FromMilliseconds(250));

        var retries = _events.Retries.ToList();
        Assert.Equal(2, retries.Count);
        // Each retry is due RetrySeconds × 2^(failures − 1) after the failure was recorded.
        Assert.Equal(TimeSpan.FromSeconds(2), retries[0].NextAttemptAt - retries[0].UpdatedAt);
        Assert.Equal(TimeSpan.FromSeconds(4), retries[1].NextAttemptAt - retries[1].UpdatedAt);
        Assert.Equal("IOException: disk hiccup 1", retries[0].LastError);
        var runs = handler.Runs.ToList();
        Assert.Equal([1, 2, 3], runs.Select(r => r.Job.Attempts));
        Assert.True(runs[1].At >= retries[0].NextAttemptAt && runs[2].At >= retries[1].NextAttemptAt, "no attempt ran before it was due");
        Assert.Equal(2, _events.RunFailures.Count);
        Assert.Empty(handler.Failures);
    }

    [Fact]
    public async Task ARetryClaimedBeforeTheFailedRunIsGone_RunsAtOnce_InsteadOfSittingOutItsLease()
    {
        // The store hands the job out again (its retry already due) before the failed run has left the engine: the
        // moment a loaded machine gave it, the claim was taken for the same run and sat 30 s unrun, costing an attempt.
        var store = new ReclaimingBeforeFailReturns(_store, _time, _wake, Options.RetryDelay(1));
        var handler = new TestHandler(Kind, _time, (job, _) => job.Attempts == 1
            ? throw new IOException("first try fails")
            : Task.FromResult(JobOutcome.Done));
        Start(store, handler);
        await Queue.EnqueueAsync("job-1", Kind, "subject-1", CancellationToken.None);

        await JobStateAsync("job-1", JobState.Succeeded);
        Assert.Equal([1, 2], handler.Runs.Select(r => r.Job.Attempts));
        Assert.True(store.ReclaimedWhileFailing);
        Assert.Empty(_events.Lost);
    }

    /// <summary>A job store whose FailAsync returns only after the engine has claimed the retried job again.</summary>
    private sealed class ReclaimingBeforeFailReturns(IJobStore inner, FakeTimeProvider time, JobWakeSignal wake, TimeSpan retryDelay) : IJobStore
    {
        private readonly TaskCompletionSource _reclaimed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool ReclaimedWhileFailing { get; private set; }

        public Task<bool> EnqueueAsync(NewJob job, CancellationToken ct = default) => inner.EnqueueAsync(job, ct);

        public Task<Job?> GetAsync(string jobId, CancellationToken ct = default) => inner.GetAsync(jobId, ct);

        public Task<IReadOnlyList<Job>> ListAsync(string? kind = null, JobState? state = null, string? subject = null, int limit = 100, CancellationToken ct = default) =>
            inner.ListAsync(kind, state, subject, limit, ct);

        public async Task<IReadOnlyList<Job>> ClaimAsync(IReadOnlyCollection<string> kinds, int max, string holder, TimeSpan ttl, CancellationToken ct = default)
        {
            var claimed = await inner.ClaimAsync(kinds, max, holder, ttl, ct);
            if (claimed.Any(j => j.Attempts == 2))
            {
                _reclaimed.TrySetResult();
            }
            return claimed;
        }

        public Task<bool> RenewAsync(string jobId, string holder, TimeSpan ttl, CancellationToken ct = default) => inner.RenewAsync(jobId, holder, ttl, ct);

        public Task<bool> CompleteAsync(string jobId, string holder, CancellationToken ct = default) => inner.CompleteAsync(jobId, holder, ct);

        public async Task<Job?> FailAsync(string jobId, string holder, string error, TimeSpan? retryAfter, CancellationToken ct = default)
        {
            var failed = await inner.FailAsync(jobId, holder, error, retryAfter, ct);
            if (failed?.Attempts == 1)
            {
                time.Advance(retryDelay);
                wake.Signal();
                await _reclaimed.Task.WaitAsync(Patience, ct);
                ReclaimedWhileFailing = true;
            }
            return failed;
        }

        public Task<bool> ReleaseAsync(string jobId, string holder, CancellationToken ct = default) => inner.ReleaseAsync(jobId, holder, ct);
    }

    [Fact]
    public async Task AJobOutOfAttempts_FailsForGood_AndItsHandlerIsToldOnce()
    {
        Options.PollSeconds = 0.25;
        var handler = new TestHandler(Kind, _time, (_, _) => throw new InvalidOperationException("always broken"));
        Start(handler);
        await Queue.EnqueueAsync("job-1", Kind, "subject-1", CancellationToken.None);
        await JobStateAsync("job-1", JobState.Failed, advance: TimeSpan.FromMilliseconds(250));

        var job = await JobAsync("job-1");
        Assert.Equal((3, "InvalidOperationException: always broken"), (job.Attempts, job.LastError));
        var (failedJob, reason) = Assert.Single(handler.Failures);
        Assert.Equal(("job-1", 3), (failedJob.Id, failedJob.Attempts));
        Assert.Equal("InvalidOperationException: always broken", reason);
        Assert.Equal("job-1", Assert.Single(_events.GivenUp).Id);

        _time.Advance(TimeSpan.FromHours(1));
        await Task.Delay(50);
        Assert.Equal(3, handler.Runs.Count);
    }

    [Fact]
    public async Task AHandlerThatSaysItCanNeverSucceed_FailsTheJobAtOnce()
    {
        var handler = new TestHandler(Kind, _time, (_, _) => Task.FromResult(JobOutcome.Failed("the input is gone")));
        Start(handler);
        await Queue.EnqueueAsync("job-1", Kind, "subject-1", CancellationToken.None);
        await JobStateAsync("job-1", JobState.Failed);
        var job = await JobAsync("job-1");
        Assert.Equal((1, "the input is gone"), (job.Attempts, job.LastError));
        Assert.Single(handler.Failures);
    }

    [Fact]
    public async Task AJobWhoseWorkersKeptDying_IsFailed_WithoutRunningItAgain()
    {
        Options.MaxAttempts = 2;
        await _store.EnqueueAsync(new NewJob("job-1", Kind, "subject-1", 2));
        // Claimed twice by nodes that died mid-run (a poison input that crashes the process, say).
        Assert.Single(await _store.ClaimAsync([Kind], 1, "crashed-1", Options.Lease));
        _time.Advance(Options.Lease);
        Assert.Single(await _store.ClaimAsync([Kind], 1, "crashed-2", Options.Lease));
        _time.Advance(Options.Lease);

        var handler = new TestHandler(Kind, _time, (_, _) => Task.FromResult(JobOutcome.Done));
        Start(handler);
        await JobStateAsync("job-1", JobState.Failed, advance: TimeSpan.FromSeconds(1));
        Assert.Empty(handler.Runs);
        var (job, reason) = Assert.Single(handler.Failures);
        Assert.Equal(3, job.Attempts);
        Assert.Contains("never finished", reason);
    }

    [Fact]
    public async Task Stopping_CancelsTheRunInFlight_AndTheNextStartResumesTheJob()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Start(new TestHandler(Kind, _time, async (_, ct) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }
            return JobOutcome.Done;
        }));
        await Queue.EnqueueAsync("job-1", Kind, "subject-1", CancellationToken.None);
        await started.Task.WaitAsync(Patience);

        await first.StopAsync();
        Assert.True(cancelled.Task.IsCompleted, "the run was cancelled and awaited before the engine stopped");
        var released = await JobAsync("job-1");
        Assert.Equal((JobState.Queued, 0, null), (released.State, released.Attempts, released.ClaimHolder));

        var resumed = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(new TestHandler(Kind, _time, (job, _) =>
        {
            resumed.TrySetResult(job);
            return Task.FromResult(JobOutcome.Done);
        }));
        Assert.Equal(1, (await resumed.Task.WaitAsync(Patience)).Attempts); // at once: the job was due, no lease to wait out
        await JobStateAsync("job-1", JobState.Succeeded);
    }

    [Fact]
    public void TwoHandlersForOneKind_AreRefused() =>
        Assert.Throws<ArgumentException>(() => new JobEngine(_store,
            [new TestHandler(Kind, _time, (_, _) => Task.FromResult(JobOutcome.Done)), new TestHandler(Kind, _time, (_, _) => Task.FromResult(JobOutcome.Done))],
            _wake, Options, _time));

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    [InlineData(9, 60)] // capped at MaxRetrySeconds
    public void TheBackoff_DoublesPerFailure_UpToItsCap(int attempts, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Options.RetryDelay(attempts));

    private sealed record RunningEngine(JobEngine Engine, Task Run, CancellationTokenSource Stop)
    {
        public async Task StopAsync()
        {
            await Stop.CancelAsync();
            await Run.WaitAsync(Patience);
        }
    }

    private sealed class TestHandler(string kind, TimeProvider time, Func<Job, CancellationToken, Task<JobOutcome>> run) : IJobHandler
    {
        public ConcurrentQueue<(Job Job, DateTimeOffset At)> Runs { get; } = new();

        public ConcurrentQueue<(Job Job, string Reason)> Failures { get; } = new();

        public string Kind => kind;

        public Task<JobOutcome> RunAsync(Job job, CancellationToken ct)
        {
            Runs.Enqueue((job, time.GetUtcNow()));
            return run(job, ct);
        }

        public Task FailedAsync(Job job, string reason, CancellationToken ct)
        {
            Failures.Enqueue((job, reason));
            return Task.CompletedTask;
        }
    }

    private sealed class RecordedEvents : IJobEngineEvents
    {
        public ConcurrentQueue<Exception> ClaimFailures { get; } = new();
        public ConcurrentQueue<Job> RunFailures { get; } = new();
        public ConcurrentQueue<Job> Retries { get; } = new();
        public ConcurrentQueue<Job> GivenUp { get; } = new();
        public ConcurrentQueue<Job> Lost { get; } = new();
        public ConcurrentQueue<Exception> StoreFailures { get; } = new();

        public void ClaimFailed(Exception error) => ClaimFailures.Enqueue(error);

        public void RunFailed(Job job, Exception error) => RunFailures.Enqueue(job);

        public void Retrying(Job job, string reason, DateTimeOffset at) => Retries.Enqueue(job);

        public void GaveUp(Job job, string reason) => GivenUp.Enqueue(job);

        public void ClaimLost(Job job) => Lost.Enqueue(job);

        public void StoreFailed(Job job, Exception error) => StoreFailures.Enqueue(error);
    }
}
