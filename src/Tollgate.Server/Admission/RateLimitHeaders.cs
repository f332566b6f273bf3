using System.Collections.Frozen;
using System.Globalization;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Admission;

/// <summary>
/// The <c>X-RateLimit-*</c> values as strings, made once instead of per response: each rule's limit, its small
/// remaining counts, and its current window's reset time (one string per window). Values outside the caches are
/// formatted as they come.
/// </summary>
internal sealed class RateLimitHeaders
{
    public const string LimitHeader = "X-RateLimit-Limit";
    public const string RemainingHeader = "X-RateLimit-Remaining";
    public const string ResetHeader = "X-RateLimit-Reset";

    private const int MaxCachedRemaining = 4096;

    private readonly FrozenDictionary<RateRule, RuleText> _rules;

    public RateLimitHeaders(RateLimitPolicy policy) =>
        _rules = policy.Options.Rules.Values.ToFrozenDictionary(r => r, r => new RuleText(r), ByReference.Instance);

    public void Write(IHeaderDictionary headers, in WindowDecision decision)
    {
        var rule = decision.Rule!;
        if (_rules.TryGetValue(rule, out var text))
        {
            headers[LimitHeader] = text.Limit;
            headers[RemainingHeader] = text.Remaining(decision.Remaining);
            headers[ResetHeader] = text.Reset(decision.ResetUnixSeconds);
            return;
        }
        headers[LimitHeader] = rule.Limit.ToString(CultureInfo.InvariantCulture);
        headers[RemainingHeader] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers[ResetHeader] = decision.ResetUnixSeconds.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The decisions name the policy's own rule objects: looking them up needs no hashing of their values.</summary>
    private sealed class ByReference : IEqualityComparer<RateRule>
    {
        public static readonly ByReference Instance = new();

        public bool Equals(RateRule? x, RateRule? y) => ReferenceEquals(x, y);

        public int GetHashCode(RateRule obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }

    private sealed class RuleText(RateRule rule)
    {
        private readonly string?[] _remaining = new string?[(int)Math.Min(rule.Limit, MaxCachedRemaining) + 1];
        private Formatted? _reset;

        public string Limit { get; } = rule.Limit.ToString(CultureInfo.InvariantCulture);

        public string Remaining(long remaining)
        {
            if ((ulong)remaining >= (ulong)_remaining.Length)
            {
                return remaining.ToString(CultureInfo.InvariantCulture);
            }
            // A race writes the same string twice; either copy is right.
            return _remaining[remaining] ??= remaining.ToString(CultureInfo.InvariantCulture);
        }

        public string Reset(long unixSeconds)
        {
            var current = Volatile.Read(ref _reset);
            if (current is not null && current.Value == unixSeconds)
            {
                return current.Text;
            }
            var fresh = new Formatted(unixSeconds, unixSeconds.ToString(CultureInfo.InvariantCulture));
            Volatile.Write(ref _reset, fresh);
            return fresh.Text;
        }

        private sealed record Formatted(long Value, string Text);
    }
}
