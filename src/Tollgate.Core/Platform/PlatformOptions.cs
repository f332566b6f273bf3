namespace Tollgate.Platform;

/// <summary>The <c>Tollgate:Platform</c> section: the Platform API's limits and timings.</summary>
internal sealed record PlatformOptions
{
    public const string SectionPath = "Tollgate:Platform";

    /// <summary>"5 MB", read as 5 MiB: the largest audio file (decoded) one upload may carry, in bytes.</summary>
    public long MaxFileBytes { get; set; } = 5L * 1024 * 1024;

    /// <summary>A multi-file job never finalized fails (<c>job_expired</c>) this long after it was opened, its files deleted (default 24).</summary>
    public double JobExpiryHours { get; set; } = 24;

    /// <summary>How long a realtime URL can be used for its one connection (default 60 s).</summary>
    public double RealtimeUrlSeconds { get; set; } = 60;

    /// <summary>The poll interval job_status answers suggest while a job runs (default 3 s, the slowest the rate-limit guidance allows).</summary>
    public int PollSeconds { get; set; } = 3;

    /// <summary>Files one multi-file job may hold (default 100).</summary>
    public int MaxFilesPerJob { get; set; } = 100;

    /// <summary>How often open jobs are checked for expiry, in seconds (default 60).</summary>
    public double ExpirySweepSeconds { get; set; } = 60;

    public TimeSpan JobExpiry => TimeSpan.FromHours(JobExpiryHours);

    public TimeSpan RealtimeUrlLifetime => TimeSpan.FromSeconds(RealtimeUrlSeconds);

    public TimeSpan ExpirySweep => TimeSpan.FromSeconds(ExpirySweepSeconds);

    /// <summary>The request body a JSON upload may have: the base64 of <see cref="MaxFileBytes"/>, room for line breaks in it (4 escaped bytes per 76), and 64 KB for the other fields.</summary>
    public long MaxJsonBodyBytes => Base64Length(MaxFileBytes) * 80 / 76 + 64 * 1024;

    /// <summary>The request body a multipart upload may have: the file and 64 KB of framing and fields.</summary>
    public long MaxMultipartBodyBytes => MaxFileBytes + 64 * 1024;

    public static long Base64Length(long bytes) => (bytes + 2) / 3 * 4;

    /// <summary>The limit as the 413 answer says it.</summary>
    public string MaxFileText => MaxFileBytes % (1024 * 1024) == 0
        ? FormattableString.Invariant($"{MaxFileBytes / (1024 * 1024)} MB ({MaxFileBytes} bytes)")
        : FormattableString.Invariant($"{MaxFileBytes} bytes");

    public IEnumerable<string> Validate()
    {
        if (MaxFileBytes is < 1024 or > 1024L * 1024 * 1024)
        {
            yield return $"{SectionPath}:MaxFileBytes must be between 1024 and 1073741824.";
        }
        if (!double.IsFinite(JobExpiryHours) || JobExpiryHours is < 0.001 or > 24 * 365)
        {
            yield return $"{SectionPath}:JobExpiryHours must be between 0.001 and 8760.";
        }
        if (!double.IsFinite(RealtimeUrlSeconds) || RealtimeUrlSeconds is < 1 or > 86_400)
        {
            yield return $"{SectionPath}:RealtimeUrlSeconds must be between 1 and 86400.";
        }
        if (PollSeconds is < 3 or > 3600)
        {
            yield return $"{SectionPath}:PollSeconds must be between 3 and 3600.";
        }
        if (MaxFilesPerJob is < 1 or > 10_000)
        {
            yield return $"{SectionPath}:MaxFilesPerJob must be between 1 and 10000.";
        }
        if (!double.IsFinite(ExpirySweepSeconds) || ExpirySweepSeconds is < 0.05 or > 86_400)
        {
            yield return $"{SectionPath}:ExpirySweepSeconds must be between 0.05 and 86400.";
        }
    }
}
