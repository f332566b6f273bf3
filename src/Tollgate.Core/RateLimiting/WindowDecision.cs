using System.Globalization;

namespace Tollgate.RateLimiting;

/// <summary>
/// The answer of <see cref="IWindowCounter"/> for one request: admitted or not, and what the
/// <c>X-RateLimit-*</c> / <c>Retry-After</c> headers say. <c>default</c> is "admitted, no rule applied" (no headers).
/// </summary>
/// <remarks>
/// <see cref="Rule"/> is the most restrictive applicable rule: the one with the fewest requests remaining after this
/// request (a rejected request consumes nothing); ties go to the window that resets last, then to the rule listed
/// first. When rejected, <see cref="BlockingRule"/> is the exhausted rule whose window resets last — the request cannot
/// pass before then — and <see cref="RetryAfterSeconds"/> counts the whole seconds until that reset (at least 1).
/// </remarks>
public readonly struct WindowDecision : IEquatable<WindowDecision>
{
    private readonly bool _rejected;

    /// <summary>For stores other than the in-process one; see the remarks of the type for what each value means.</summary>
    public WindowDecision(bool admitted, RateRule? rule, long remaining, long resetUnixSeconds, RateRule? blockingRule, int retryAfterSeconds)
    {
        if (!admitted && (blockingRule is null || rule is null))
        {
            throw new ArgumentException("A rejection names its blocking rule and the rule of its headers.", nameof(blockingRule));
        }
        _rejected = !admitted;
        Rule = rule;
        Remaining = Math.Max(0, remaining);
        ResetUnixSeconds = resetUnixSeconds;
        BlockingRule = admitted ? null : blockingRule;
        RetryAfterSeconds = admitted ? 0 : Math.Max(1, retryAfterSeconds);
    }

    public bool Admitted => !_rejected;

    /// <summary>Whether any rule applied, i.e. whether the response carries the <c>X-RateLimit-*</c> headers.</summary>
    public bool HasRule => Rule is not null;

    /// <summary>The most restrictive applicable rule, or null when none applied.</summary>
    public RateRule? Rule { get; }

    /// <summary><c>X-RateLimit-Limit</c>: the limit of <see cref="Rule"/> (0 when none applied).</summary>
    public long Limit => Rule?.Limit ?? 0;

    /// <summary><c>X-RateLimit-Remaining</c>: requests left in <see cref="Rule"/>'s window after this one, at least 0.</summary>
    public long Remaining { get; }

    /// <summary><c>X-RateLimit-Reset</c>: Unix seconds at which <see cref="Rule"/>'s current window ends.</summary>
    public long ResetUnixSeconds { get; }

    /// <summary>When rejected: the rule that refused the request (named in the 429 body); otherwise null.</summary>
    public RateRule? BlockingRule { get; }

    /// <summary><c>Retry-After</c> when rejected: whole seconds until the blocking window resets, at least 1; 0 when admitted.</summary>
    public int RetryAfterSeconds { get; }

    public TimeSpan RetryAfter => TimeSpan.FromSeconds(RetryAfterSeconds);

    public bool Equals(WindowDecision other) =>
        _rejected == other._rejected && Equals(Rule, other.Rule) && Remaining == other.Remaining
        && ResetUnixSeconds == other.ResetUnixSeconds && Equals(BlockingRule, other.BlockingRule) && RetryAfterSeconds == other.RetryAfterSeconds;

    public override bool Equals(object? obj) => obj is WindowDecision other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_rejected, Rule, Remaining, ResetUnixSeconds, BlockingRule, RetryAfterSeconds);

    public static bool operator ==(WindowDecision left, WindowDecision right) => left.Equals(right);

    public static bool operator !=(WindowDecision left, WindowDecision right) => !left.Equals(right);

    public override string ToString() => Rule is null
        ? "Admitted (no rule)"
        : string.Create(CultureInfo.InvariantCulture,
            $"{(Admitted ? "Admitted" : $"Rejected by {BlockingRule!.Name}, retry after {RetryAfterSeconds} s")}; {Rule.Name}: {Remaining}/{Limit} left until {ResetUnixSeconds}");
}
