using Tollgate.Jobs;

namespace Tollgate.Server.Jobs;

/// <summary>
/// Hosts this node's <see cref="JobEngine"/>: it runs from start to stop, at most <c>Tollgate:Jobs:Workers</c> jobs at
/// once. On stop it cancels the jobs in flight and waits for them; each is given back in its last durable step and
/// resumed by the next start (or, on a node that died without stopping, by whichever node claims it once its lease expires).
/// </summary>
internal sealed partial class JobEngineService(JobEngine engine, ILogger<JobEngineService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, string.Join(", ", engine.Kinds), engine.Holder);
        await engine.RunAsync(stoppingToken);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job engine running jobs of kinds {Kinds} as {Holder}")]
    private static partial void LogStarted(ILogger logger, string kinds, string holder);
}

/// <summary>The job engine's events as log lines.</summary>
internal sealed partial class JobEngineLog(ILogger<JobEngine> logger) : IJobEngineEvents
{
    public void ClaimFailed(Exception error) => LogClaimFailed(logger, error);

    public void RunFailed(Job job, Exception error) => LogRunFailed(logger, error, job.Kind, job.Subject, job.Attempts);

    public void Retrying(Job job, string reason, DateTimeOffset at) => LogRetrying(logger, job.Kind, job.Subject, at, reason);

    public void GaveUp(Job job, string reason) => LogGaveUp(logger, job.Kind, job.Subject, job.Attempts, reason);

    public void ClaimLost(Job job) => LogClaimLost(logger, job.Kind, job.Subject);

    public void StoreFailed(Job job, Exception error) => LogStoreFailed(logger, error, job.Kind, job.Subject);

    [LoggerMessage(Level = LogLevel.Error, Message = "Looking for due jobs failed; retrying on the next pass")]
    private static partial void LogClaimFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "Work on {Kind} {Subject} failed (attempt {Attempt})")]
    private static partial void LogRunFailed(ILogger logger, Exception ex, string kind, string subject, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work on {Kind} {Subject} is retried at {At:O}: {Reason}")]
    private static partial void LogRetrying(ILogger logger, string kind, string subject, DateTimeOffset at, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Work on {Kind} {Subject} failed for good after {Attempts} attempts: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, string kind, string subject, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The claim on {Kind} {Subject} expired and another worker took it; this run's result was dropped")]
    private static partial void LogClaimLost(ILogger logger, string kind, string subject);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording progress on {Kind} {Subject} failed; it is taken again once its claim expires")]
    private static partial void LogStoreFailed(ILogger logger, Exception ex, string kind, string subject);
}
