using Tollgate.RateLimiting;

namespace Tollgate.Limits;

/// <summary>
/// The <c>Tollgate:Leases</c> section. <see cref="Ttl"/> (windows syntax, as in the rate rules: <c>30s</c>, <c>2m</c>) is how
/// long a concurrency lease survives once its holder stops renewing it: live requests and open WebSockets renew theirs
/// every third of it, so a node that dies frees its slots within one TTL. Shorter frees a dead node's slots sooner and
/// costs more renewals.
/// </summary>
internal sealed record LeaseOptions
{
    public const string SectionPath = "Tollgate:Leases";

    public string Ttl { get; init; } = "30s";

    /// <summary>The parsed <see cref="Ttl"/> (valid once <see cref="Validate"/> found nothing).</summary>
    public TimeSpan TtlValue => RateLimitValidator.TryParseWindowText(Ttl, out var ttl) ? ttl : TimeSpan.FromSeconds(30);

    /// <summary>How often the node renews what it holds.</summary>
    public TimeSpan RenewalInterval => TtlValue / 3;

    public IEnumerable<string> Validate()
    {
        if (!RateLimitValidator.TryParseWindowText(Ttl, out var ttl))
        {
            yield return $"{SectionPath}:Ttl must be a duration such as 30s, 90s or 2m (was '{Ttl}').";
        }
        else if (ttl < TimeSpan.FromSeconds(3) || ttl > TimeSpan.FromHours(1))
        {
            yield return $"{SectionPath}:Ttl must be between 3s and 1h (was '{Ttl}').";
        }
    }
}
