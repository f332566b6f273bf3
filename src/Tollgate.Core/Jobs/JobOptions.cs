namespace Tollgate.Jobs;

/// <summary>
/// The <c>Tollgate:Jobs</c> section: how the node's job engine runs. <c>Tollgate:Dubbing:Workers</c> and
/// <c>Tollgate:Dubbing:PollSeconds</c>, which set the dubbing workers before the engine served every job, still
/// apply when this section does not set them.
/// </summary>
internal sealed record JobOptions
{
    public const string SectionPath = "Tollgate:Jobs";

    /// <summary>Jobs this node runs at once (default 2).</summary>
    public int Workers { get; set; } = 2;

    /// <summary>How often the engine looks for work nobody signalled (another node's, a retry, an expired claim), in seconds (default 2).</summary>
    public double PollSeconds { get; set; } = 2;

    /// <summary>How long a claim lives without a renewal, in seconds (default 30); a running job renews its claim every third of it, so a dead node's jobs are taken again within this.</summary>
    public double LeaseSeconds { get; set; } = 30;

    /// <summary>Attempts a job gets before a failure is final (default 10).</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>The wait before the first retry, in seconds (default 2); it doubles with each further failure.</summary>
    public double RetrySeconds { get; set; } = 2;

    /// <summary>The longest wait between retries, in seconds (default 300).</summary>
    public double MaxRetrySeconds { get; set; } = 300;

    public TimeSpan Poll => TimeSpan.FromSeconds(PollSeconds);

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan RenewalInterval => Lease / 3;

    /// <summary>The wait after a job's <paramref name="attempts"/>-th failure: <see cref="RetrySeconds"/> doubled per earlier failure, at most <see cref="MaxRetrySeconds"/>.</summary>
    public TimeSpan RetryDelay(int attempts)
    {
        var exponent = Math.Clamp(attempts - 1, 0, 30);
        return TimeSpan.FromSeconds(Math.Min(RetrySeconds * Math.Pow(2, exponent), MaxRetrySeconds));
    }

    /// <summary>Every problem with these settings, so start-up can report them all at once.</summary>
    public IEnumerable<string> Validate()
    {
        if (Workers is < 1 or > 64)
        {
            yield return $"{SectionPath}:Workers must be between 1 and 64 (was {Workers}).";
        }
        if (!double.IsFinite(PollSeconds) || PollSeconds is < 0.05 or > 3600)
        {
            yield return $"{SectionPath}:PollSeconds must be between 0.05 and 3600 (was {PollSeconds}).";
        }
        if (!double.IsFinite(LeaseSeconds) || LeaseSeconds is < 1 or > 3600)
        {
            yield return $"{SectionPath}:LeaseSeconds must be between 1 and 3600 (was {LeaseSeconds}).";
        }
        if (MaxAttempts is < 1 or > 1000)
        {
            yield return $"{SectionPath}:MaxAttempts must be between 1 and 1000 (was {MaxAttempts}).";
        }
        if (!double.IsFinite(RetrySeconds) || RetrySeconds is < 0.05 or > 86_400)
        {
            yield return $"{SectionPath}:RetrySeconds must be between 0.05 and 86400 (was {RetrySeconds}).";
        }
        if (!double.IsFinite(MaxRetrySeconds) || MaxRetrySeconds < RetrySeconds || MaxRetrySeconds > 86_400)
        {
            yield return $"{SectionPath}:MaxRetrySeconds must be between RetrySeconds and 86400 (was {MaxRetrySeconds}).";
        }
    }
}
