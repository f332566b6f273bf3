using Tollgate.RateLimiting;

namespace Tollgate.Server.Admission;

/// <summary>
/// The <c>Tollgate:AuthThrottle</c> section: failed authentications (a malformed, unknown or revoked key, a wrong admin
/// token) are counted per source address in fixed, clock-aligned windows; once an address has had <see cref="Limit"/>
/// in a window, its further failures are answered 429 <c>auth_throttled</c> with <c>Retry-After</c> (the window's end)
/// instead of 401. A valid key is never refused for this, and a request without any credential is not counted.
/// </summary>
internal sealed record AuthThrottleOptions
{
    public const string SectionPath = "Tollgate:AuthThrottle";

    /// <summary>The counter's rule name (shown nowhere but its own store).</summary>
    internal const string RuleName = "auth-failures";

    public bool Enabled { get; init; } = true;

    /// <summary>Failed authentications an address may have per window before they are answered 429.</summary>
    public long Limit { get; init; } = 100;

    /// <summary>The window (durations as in the rate rules: <c>1m</c>, <c>10m</c>, <c>1h</c>).</summary>
    public string Window { get; init; } = "1m";

    public TimeSpan WindowValue => RateLimitValidator.TryParseWindowText(Window, out var window) ? window : TimeSpan.FromMinutes(1);

    public RateRule Rule => new(RuleName, Limit, WindowValue, RuleScope.All);

    public IEnumerable<string> Validate()
    {
        if (!RateLimitValidator.TryParseWindowText(Window, out _))
        {
            return [$"{SectionPath}:Window must be a duration such as 1m, 10m or 1h (was '{Window}')."];
        }
        var errors = new List<string>();
        RateLimitValidator.CheckRule(Rule, SectionPath, errors);
        return errors;
    }
}
