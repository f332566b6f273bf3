using Tollgate.RateLimiting;

namespace Tollgate.Server.Hosting;

/// <summary>
/// The <c>Tollgate:Shutdown</c> section. On SIGTERM (or Ctrl+C) the server stops taking connections, ends every open
/// stream with an <c>error</c> and close 1001 after charging what it sent, and gives requests in flight up to
/// <see cref="Timeout"/> to finish (<see cref="HostOptions.ShutdownTimeout"/>); what is still running then is cut off,
/// charged nothing, and its leases freed.
/// </summary>
internal sealed record ShutdownOptions
{
    public const string SectionPath = "Tollgate:Shutdown";

    /// <summary>How long requests in flight have to finish (durations as in the rate rules: <c>30s</c>, <c>2m</c>).</summary>
    public string Timeout { get; init; } = "30s";

    /// <summary>The parsed <see cref="Timeout"/> (valid once <see cref="Validate"/> found nothing).</summary>
    public TimeSpan TimeoutValue => RateLimitValidator.TryParseWindowText(Timeout, out var timeout) ? timeout : TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate()
    {
        if (!RateLimitValidator.TryParseWindowText(Timeout, out var timeout))
        {
            yield return $"{SectionPath}:Timeout must be a duration such as 30s, 90s or 2m (was '{Timeout}').";
        }
        else if (timeout < TimeSpan.FromSeconds(1) || timeout > TimeSpan.FromHours(1))
        {
            yield return $"{SectionPath}:Timeout must be between 1s and 1h (was '{Timeout}').";
        }
    }
}
