using Tollgate.RateLimiting;

namespace Tollgate.Server.Models;

/// <summary>
/// The <c>Tollgate:Streams</c> section. A WebSocket holds its organization's concurrency slot for its whole life, so a
/// stream that sends no audio for <see cref="IdleTimeout"/> is sent an <c>error</c> (<c>idle_timeout</c>) and closed
/// with 1008, which frees its slot. A stream that has sent its end-of-stream frame is waiting for the server, not idle.
/// </summary>
internal sealed record StreamOptions
{
    public const string SectionPath = "Tollgate:Streams";

    /// <summary>How long a stream may go without an audio frame (durations as in the rate rules: <c>30s</c>, <c>2m</c>).</summary>
    public string IdleTimeout { get; init; } = "30s";

    /// <summary>The parsed <see cref="IdleTimeout"/> (valid once <see cref="Validate"/> found nothing).</summary>
    public TimeSpan IdleTimeoutValue => RateLimitValidator.TryParseWindowText(IdleTimeout, out var idle) ? idle : TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate()
    {
        if (!RateLimitValidator.TryParseWindowText(IdleTimeout, out var idle))
        {
            yield return $"{SectionPath}:IdleTimeout must be a duration such as 30s, 90s or 2m (was '{IdleTimeout}').";
        }
        else if (idle < TimeSpan.FromSeconds(1) || idle > TimeSpan.FromHours(1))
        {
            yield return $"{SectionPath}:IdleTimeout must be between 1s and 1h (was '{IdleTimeout}').";
        }
    }
}
