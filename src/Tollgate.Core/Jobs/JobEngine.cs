using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Tollgate.Jobs;

/// <summary>What a job engine reports as it runs (the server logs it); every method is called at most once per event.</summary>
internal interface IJobEngineEvents
{
    /// <summary>Looking for due jobs failed; the engine looks again at its next poll or signal.</summary>
    void ClaimFailed(Exception error);

    /// <summary>A run threw; the job is retried or failed as its attempts allow (<see cref="Retrying"/>, <see cref="GaveUp"/>).</summary>
    void RunFailed(Job job, Exception error);

    void Retrying(Job job, string reason, DateTimeOffset at);

    /// <summary>The job failed for good.</summary>
    void GaveUp(Job job, string reason);

    /// <summary>The job's claim expired and someone else took it: this run's result was dropped.</summary>
    void ClaimLost(Job job);

    /// <summary>Recording a job's progress failed; its claim expires and the job is taken again.</summary>
    void StoreFailed(Job job, Exception error);
}

/// <summary>
/// Runs durable jobs on this node (DESIGN 3.5): claims due jobs of the kinds it has handlers for, at most
/// <see cref="JobOptions.Workers"/> at once, under a lease it renews every third of <see cref="JobOptions.Lease"/>
/// while each runs, and records how each run ended: done, retried with exponential backoff, or failed once its
/// attempts are spent. A job whose claim expired — its node was killed or lost its store — is claimed again like any
/// due job, so it resumes on this node or the next. The engine claims as soon as <see cref="JobWakeSignal"/> fires (a
/// job enqueued here, a slot freed) and otherwise every <see cref="JobOptions.Poll"/>. Stopping cancels every run in
/// flight, waits for them, and gives their jobs back (queued, the attempt not counted), so the next start resumes them.
/// </summary>
internal sealed class JobEngine
{
    private const int MaxReasonLength = 1000;

    private readonly IJobStore _store;
    private readonly Dictionary<string, IJobHandler> _handlers = new(StringComparer.Ordinal);
    private readonly string[] _kinds;
    private readonly JobWakeSignal _wake;
    private readonly JobOptions _options;
    private readonly TimeProvider _time;
    private readonly IJobEngineEvents? _events;
    private readonly ConcurrentDictionary<string, RunEntry> _running = new(StringComparer.Ordinal);
    private int _started;

    public JobEngine(IJobStore store, IEnumerable<IJobHandler> handlers, JobWakeSignal wake, JobOptions options, TimeProvider time,
        IJobEngineEvents? events = null)
    {
        _store = store;
        foreach (var handler in handlers)
        {
            if (!_handlers.TryAdd(handler.Kind, handler))
            {
                throw new ArgumentException($"Two job handlers for the kind '{handler.Kind}'.", nameof(handlers));
            }
        }
        _kinds = [.. _handlers.Keys.Order(StringComparer.Ordinal)];
        _wake = wake;
        _options = options;
        _time = time;
        _events = events;
        var machine = Environment.MachineName is { Length: > 100 } name ? name[..100] : Environment.MachineName;
        Holder = $"{machine}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    }

    /// <summary>The claim holder this engine writes: unique to this engine instance, so a restarted node never mistakes a dead run's claim for its own.</summary>
    public string Holder { get; }

    /// <summary>The kinds this engine claims.</summary>
    public IReadOnlyList<string> Kinds => _kinds;

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled, then cancels the runs in flight, waits for them and gives their jobs back.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("A job engine runs once; create another for another run.");
        }
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Taken before looking, so a signal that arrives while we look is not lost.
                var signal = _wake.Next;
                await ClaimAndStartAsync(stoppingToken);
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                await Task.WhenAny(signal, Task.Delay(_options.Poll, _time, poll.Token));
                await poll.CancelAsync();
            }
        }
        finally
        {
            await Task.WhenAll(_running.Values.Select(r => r.Run));
        }
    }

    private async Task ClaimAndStartAsync(CancellationToken stoppingToken)
    {
        var free = _options.Workers - _running.Count;
        if (free <= 0 || _kinds.Length == 0)
        {
            return;
        }
        IReadOnlyList<Job> claimed;
        try
        {
            // Not cancelled half-way: a claim the store made must reach us, or it would sit out its lease unrun.
            claimed = await _store.ClaimAsync(_kinds, free, Holder, _options.Lease, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _events?.ClaimFailed(ex);
            return;
        }
        foreach (var job in claimed)
        {
            Task? previous = null;
            if (_running.TryGetValue(job.Id, out var current))
            {
                if (!current.Settling)
                {
                    // Already running here (time jumped past its lease before the renewal ran): that run holds the same claim.
                    continue;
                }
                // That run has recorded its end (a retry now due, say) and is only tidying up: this claim is the next
                // attempt, which starts once the earlier run is gone rather than sitting out its lease unrun.
                previous = current.Run;
            }
            var handler = _handlers[job.Kind];
            var entry = new RunEntry();
            var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            entry.Run = Task.Run(async () =>
            {
                await registered.Task;
                if (previous is not null)
                {
                    await previous;
                }
                await RunJobAsync(job, handler, entry, stoppingToken);
            }, CancellationToken.None);
            _running[job.Id] = entry;
            registered.SetResult();
        }
    }

    /// <summary>A run this engine holds: its task, and whether it has begun recording its end in the store.</summary>
    private sealed class RunEntry
    {
        public Task Run { get; set; } = Task.CompletedTask;

        public volatile bool Settling;
    }

    /// <summary>One run of one job, its claim renewed throughout; never throws.</summary>
    private async Task RunJobAsync(Job job, IJobHandler handler, RunEntry entry, CancellationToken stoppingToken)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var settled = new CancellationTokenSource();
        var lost = new StrongBox<bool>();
        var renewal = KeepClaimAsync(job, run, lost, settled.Token);
        try
        {
            run.Token.ThrowIfCancellationRequested();
            var outcome = await AttemptAsync(job, handler, run.Token);
            // From here the store may hand the job out again (a retry that is due at once) before this run is gone.
            entry.Settling = true;
            await SettleAsync(job, handler, outcome, run.Token);
        }
        catch (Exception) when (run.IsCancellationRequested)
        {
            if (lost.Value)
            {
                _events?.ClaimLost(job);
            }
            else
            {
                await ReleaseAsync(job);
            }
        }
        catch (Exception ex)
        {
            _events?.StoreFailed(job, ex);
        }
        finally
        {
            await settled.CancelAsync();
            await renewal;
            _running.TryRemove(KeyValuePair.Create(job.Id, entry));
            _wake.Signal();
        }
    }

    private async Task<JobOutcome> AttemptAsync(Job job, IJobHandler handler, CancellationToken ct)
    {
        if (job.Attempts > job.MaxAttempts)
        {
            // Only expired claims get here: every earlier run died (or its node did) before it could record an end.
            return JobOutcome.Failed($"Abandoned after {job.Attempts - 1} attempts that never finished (their worker stopped or died each time).");
        }
        try
        {
            return await handler.RunAsync(job, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _events?.RunFailed(job, ex);
            return JobOutcome.RetryLater($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task SettleAsync(Job job, IJobHandler handler, JobOutcome outcome, CancellationToken ct)
    {
        var reason = Clip(outcome.Reason ?? "The job failed.");
        switch (outcome.Kind)
        {
            case JobOutcomeKind.Done:
                if (!await _store.CompleteAsync(job.Id, Holder, CancellationToken.None))
                {
                    _events?.ClaimLost(job);
                }
                return;
            case JobOutcomeKind.RetryLater when job.Attempts < job.MaxAttempts:
                var retried = await _store.FailAsync(job.Id, Holder, reason, outcome.RetryAfter ?? _options.RetryDelay(job.Attempts), CancellationToken.None);
                Report(job, retried, reason);
                return;
            default:
                // The subject gets its final state first, while the claim is ours; if that throws, the job is taken
                // again after its lease and ends here once more.
                await handler.FailedAsync(job, reason, ct);
                var failed = await _store.FailAsync(job.Id, Holder, reason, null, CancellationToken.None);
                Report(job, failed, reason);
                return;
        }
    }

    private void Report(Job job, Job? stored, string reason)
    {
        if (stored is null)
        {
            _events?.ClaimLost(job);
        }
        else if (stored.State == JobState.Queued)
        {
            _events?.Retrying(stored, reason, stored.NextAttemptAt);
        }
        else
        {
            _events?.GaveUp(stored, reason);
        }
    }

    private async Task ReleaseAsync(Job job)
    {
        try
        {
            await _store.ReleaseAsync(job.Id, Holder, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _events?.StoreFailed(job, ex);
        }
    }

    /// <summary>Renews the claim every third of the lease until the run is settled; cancels the run if the claim was lost.</summary>
    private async Task KeepClaimAsync(Job job, CancellationTokenSource run, StrongBox<bool> lost, CancellationToken settled)
    {
        using var timer = new PeriodicTimer(_options.RenewalInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(settled))
            {
                bool kept;
                try
                {
                    kept = await _store.RenewAsync(job.Id, Holder, _options.Lease, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    // The claim may well still be ours: try again at the next tick.
                    _events?.StoreFailed(job, ex);
                    continue;
                }
                if (!kept && !settled.IsCancellationRequested)
                {
                    lost.Value = true;
                    await run.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (settled.IsCancellationRequested)
        {
        }
    }

    private static string Clip(string reason) => reason.Length <= MaxReasonLength ? reason : reason[..MaxReasonLength];
}
