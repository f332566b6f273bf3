namespace Tollgate.Jobs;

/// <summary>Where a job is: waiting to be claimed, claimed by a worker, or finished one way or the other.</summary>
public enum JobState
{
    /// <summary>Waiting for its next attempt (<see cref="Job.NextAttemptAt"/>).</summary>
    Queued,

    /// <summary>Claimed by a worker (<see cref="Job.ClaimHolder"/>) until <see cref="Job.ClaimedUntil"/>, unless renewed.</summary>
    Running,

    /// <summary>Done; never claimed again.</summary>
    Succeeded,

    /// <summary>Given up (failed for good, or out of attempts); never claimed again.</summary>
    Failed,
}

/// <summary>
/// A durable unit of background work: a kind (which handler runs it: <c>dub</c>, <c>voice</c>, <c>platform</c>…) and the
/// subject it works on (a dub id, say: the handler reads everything else from its own store). A job is claimed by one
/// worker at a time under a lease that the worker renews while it runs; a worker that dies stops renewing, and once
/// the claim has expired the job is claimed again, by whichever worker comes next.
/// </summary>
public sealed record Job
{
    /// <summary>Chosen by whoever enqueues it; enqueuing the same id again changes nothing.</summary>
    public required string Id { get; init; }
    public required string Kind { get; init; }
    public required string Subject { get; init; }
    public JobState State { get; init; }

    /// <summary>How many times the job has been claimed and not given back (a stop that interrupts it gives the attempt back).</summary>
    public int Attempts { get; init; }

    /// <summary>After this many attempts a failure is final.</summary>
    public int MaxAttempts { get; init; }

    /// <summary>When a queued job is due.</summary>
    public DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>The worker that holds the claim of a running job.</summary>
    public string? ClaimHolder { get; init; }

    /// <summary>When a running job's claim expires unless its holder renews it.</summary>
    public DateTimeOffset? ClaimedUntil { get; init; }

    /// <summary>Why the last attempt failed, if it did.</summary>
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>What <see cref="IJobStore.EnqueueAsync"/> stores: a queued job due at <paramref name="NotBefore"/> (default: now).</summary>
public sealed record NewJob(string Id, string Kind, string Subject, int MaxAttempts, DateTimeOffset? NotBefore = null)
{
    /// <summary>Longest id, kind or subject a store must keep.</summary>
    public const int MaxTextLength = 200;

    /// <summary>Throws <see cref="ArgumentException"/> unless the fields are fit to store (stores call it before writing).</summary>
    public void Validate()
    {
        Check(Id, nameof(Id));
        Check(Kind, nameof(Kind));
        Check(Subject, nameof(Subject));
        if (MaxAttempts < 1)
        {
            throw new ArgumentException($"A job needs at least one attempt (MaxAttempts was {MaxAttempts}).", nameof(MaxAttempts));
        }
    }

    private static void Check(string value, string name)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxTextLength)
        {
            throw new ArgumentException($"A job's {name} must be 1–{MaxTextLength} characters.", name);
        }
    }
}
