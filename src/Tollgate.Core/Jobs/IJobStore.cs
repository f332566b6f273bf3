namespace Tollgate.Jobs;

/// <summary>
/// Durable jobs (SQLite by default; PostgreSQL for many nodes). Every change to a claimed job names its holder and is
/// refused (false or null, nothing written) once the claim is someone else's, so a worker whose claim expired and was
/// taken over can never complete, fail or renew a job it no longer owns. <see cref="ClaimAsync"/> is atomic: two
/// workers claiming at once never get the same job. Times come from the store's <see cref="TimeProvider"/> and are
/// kept to the millisecond.
/// </summary>
public interface IJobStore
{
    /// <summary>Stores <paramref name="job"/> as queued unless a job with its id exists (in any state); true when it was added.</summary>
    Task<bool> EnqueueAsync(NewJob job, CancellationToken ct = default);

    Task<Job?> GetAsync(string jobId, CancellationToken ct = default);

    /// <summary>Jobs oldest first, optionally only of one <paramref name="kind"/>, <paramref name="state"/> or <paramref name="subject"/>.</summary>
    Task<IReadOnlyList<Job>> ListAsync(string? kind = null, JobState? state = null, string? subject = null, int limit = 100, CancellationToken ct = default);

    /// <summary>
    /// Claims, in one atomic step, up to <paramref name="max"/> jobs of <paramref name="kinds"/> that are due — queued with
    /// their next attempt now or earlier, or running under a claim that has expired (its holder died) — oldest due first.
    /// Each becomes running, held by <paramref name="holder"/> until now + <paramref name="ttl"/>, with one more attempt.
    /// </summary>
    Task<IReadOnlyList<Job>> ClaimAsync(IReadOnlyCollection<string> kinds, int max, string holder, TimeSpan ttl, CancellationToken ct = default);

    /// <summary>Extends the claim to now + <paramref name="ttl"/>; false when the job is not running under <paramref name="holder"/>'s claim.</summary>
    Task<bool> RenewAsync(string jobId, string holder, TimeSpan ttl, CancellationToken ct = default);

    /// <summary>Marks the job succeeded; false when it is not running under <paramref name="holder"/>'s claim.</summary>
    Task<bool> CompleteAsync(string jobId, string holder, CancellationToken ct = default);

    /// <summary>
    /// Ends an attempt that failed with <paramref name="error"/>: the job is queued again, due after
    /// <paramref name="retryAfter"/>, while it has attempts left; with <paramref name="retryAfter"/> null, or once
    /// <see cref="Job.Attempts"/> has reached <see cref="Job.MaxAttempts"/>, it fails for good. Returns the job as stored
    /// afterwards, or null when it was not running under <paramref name="holder"/>'s claim.
    /// </summary>
    Task<Job?> FailAsync(string jobId, string holder, string error, TimeSpan? retryAfter, CancellationToken ct = default);

    /// <summary>
    /// Gives an interrupted job back (its worker is stopping): queued, due now, and the attempt not counted. False when
    /// it is not running under <paramref name="holder"/>'s claim.
    /// </summary>
    Task<bool> ReleaseAsync(string jobId, string holder, CancellationToken ct = default);
}
