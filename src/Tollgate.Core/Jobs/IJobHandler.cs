namespace Tollgate.Jobs;

/// <summary>How one run of a job ended.</summary>
internal enum JobOutcomeKind
{
    /// <summary>The job's work is finished.</summary>
    Done,

    /// <summary>Not finished: run it again later (an attempt spent; after the last one the job fails).</summary>
    RetryLater,

    /// <summary>It can never succeed: fail it now, whatever attempts are left.</summary>
    FailedPermanently,
}

/// <summary>What a handler answers for one run (<see cref="Done"/>, <see cref="RetryLater"/>, <see cref="Failed"/>).</summary>
internal readonly record struct JobOutcome(JobOutcomeKind Kind, string? Reason = null, TimeSpan? RetryAfter = null)
{
    public static JobOutcome Done => new(JobOutcomeKind.Done);

    /// <summary>Run again after <paramref name="after"/> (default: the engine's backoff for the attempt).</summary>
    public static JobOutcome RetryLater(string reason, TimeSpan? after = null) => new(JobOutcomeKind.RetryLater, reason, after);

    public static JobOutcome Failed(string reason) => new(JobOutcomeKind.FailedPermanently, reason);
}

/// <summary>
/// Runs the jobs of one <see cref="Kind"/>. A run may be cut short at any point (the node stops or dies) and the job
/// is then run again from the start, so a run must be safe to repeat: it moves its subject on in durable steps and
/// takes up wherever the last run left it. A run that throws is retried with backoff, like <see cref="JobOutcome.RetryLater"/>.
/// </summary>
internal interface IJobHandler
{
    string Kind { get; }

    /// <param name="ct">Cancelled when the node stops or the claim is lost: stop at once (the job is run again).</param>
    Task<JobOutcome> RunAsync(Job job, CancellationToken ct);

    /// <summary>
    /// The job is about to fail for good (<paramref name="reason"/>): put its subject in a final state users can see. Runs
    /// while the claim is still held; if it throws, the job is not failed yet and is taken again once its claim expires.
    /// </summary>
    Task FailedAsync(Job job, string reason, CancellationToken ct);
}
