namespace Tollgate.Jobs;

/// <summary>
/// Completes when there may be new work for this node's engine (a job enqueued, a slot freed), so it claims at once
/// instead of waiting for its next poll. Signals are not counted: a waiter takes <see cref="Next"/> before it looks for
/// work, so a signal sent while it looks is not lost.
/// </summary>
internal sealed class JobWakeSignal
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Signal"/>.</summary>
    public Task Next
    {
        get
        {
            lock (_lock)
            {
                return _next.Task;
            }
        }
    }

    public void Signal()
    {
        TaskCompletionSource previous;
        lock (_lock)
        {
            previous = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }
}

/// <summary>Where work is handed to the engine: stores a job (idempotently per id) and wakes this node's engine.</summary>
internal sealed class JobQueue(IJobStore store, JobWakeSignal wake, JobOptions options)
{
    /// <summary>Stores the job unless one with its id exists, then wakes the engine; true when it was added.</summary>
    public async Task<bool> EnqueueAsync(string id, string kind, string subject, CancellationToken ct)
    {
        var added = await store.EnqueueAsync(new NewJob(id, kind, subject, options.MaxAttempts), ct);
        wake.Signal();
        return added;
    }
}
