using System.Collections.Frozen;
using System.Globalization;
using Microsoft.Extensions.Options;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Admission;

/// <summary>Which rate-limit fields responses carry (<c>Tollgate:RateLimits:Headers</c>).</summary>
internal enum RateLimitHeaderStyle
{
    /// <summary><c>X-RateLimit-Limit</c>, <c>X-RateLimit-Remaining</c>, <c>X-RateLimit-Reset</c> (the default).</summary>
    XRateLimit,

    /// <summary>draft-ietf-httpapi-ratelimit-headers' <c>RateLimit-Policy</c> and <c>RateLimit</c>.</summary>
    Ietf,

    /// <summary>Both sets.</summary>
    Both,
}

/// <summary>The <c>Headers</c> setting of the <c>Tollgate:RateLimits</c> section (its rules are Core's <c>RateLimitSettings</c>).</summary>
internal sealed record RateLimitHeaderOptions
{
    public const string SectionPath = "Tollgate:RateLimits";

    /// <summary><c>XRateLimit</c> (default), <c>Ietf</c> or <c>Both</c>, in any case.</summary>
    public string? Headers { get; set; }

    public RateLimitHeaderStyle Style =>
        Enum.TryParse<RateLimitHeaderStyle>(Headers, ignoreCase: true, out var style) && Enum.IsDefined(style) ? style : RateLimitHeaderStyle.XRateLimit;

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrEmpty(Headers) && !(Enum.TryParse<RateLimitHeaderStyle>(Headers, ignoreCase: true, out var style) && Enum.IsDefined(style)
            && !int.TryParse(Headers, out _)))
        {
            yield return $"{SectionPath}:Headers must be XRateLimit, Ietf or Both (was '{Headers}').";
        }
    }
}

/// <summary>
/// The rate-limit fields of a response, as strings made once instead of per response. <c>X-RateLimit-*</c>: each rule's
/// limit, its small remaining counts and its current window's reset time (one string per window). The IETF draft's
/// (draft-ietf-httpapi-ratelimit-headers-11) <c>RateLimit-Policy</c> (<c>"unsafe-minute";q=500;w=60</c>, one string per
/// rule) and <c>RateLimit</c> (<c>"unsafe-minute";r=17;t=42</c>: remaining and seconds to the reset), kept per rule and
/// remaining count while its seconds to the reset repeat (a miss costs the one string); and the Models API's concurrency as a <c>concurrent-requests</c>
/// policy (<c>"concurrency";q=5;qu="concurrent-requests"</c>, <c>"concurrency";r=3</c>), cached per limit and count.
/// Values outside the caches are formatted as they come.
/// </summary>
internal sealed class RateLimitHeaders
{
    public const string LimitHeader = "X-RateLimit-Limit";
    public const string RemainingHeader = "X-RateLimit-Remaining";
    public const string ResetHeader = "X-RateLimit-Reset";
    public const string PolicyHeader = "RateLimit-Policy";
    public const string RateLimitHeader = "RateLimit";

    /// <summary>The name of the concurrency policy in the IETF fields.</summary>
    public const string ConcurrencyPolicy = "concurrency";

    private const int MaxCachedRemaining = 4096;
    private const int MaxCachedConcurrency = 64;

    private readonly FrozenDictionary<RateRule, RuleText> _rules;
    private readonly TimeProvider _time;
    private readonly string?[] _concurrencyPolicies = new string?[MaxCachedConcurrency + 1];
    private readonly string?[][] _concurrencyRemaining = new string?[MaxCachedConcurrency + 1][];

    public RateLimitHeaders(RateLimitPolicy policy, IOptions<RateLimitHeaderOptions> options, TimeProvider time)
    {
        _rules = policy.Options.Rules.Values.ToFrozenDictionary(r => r, r => new RuleText(r), ByReference.Instance);
        _time = time;
        var style = options.Value.Style;
        WritesXRateLimit = style is RateLimitHeaderStyle.XRateLimit or RateLimitHeaderStyle.Both;
        WritesIetf = style is RateLimitHeaderStyle.Ietf or RateLimitHeaderStyle.Both;
    }

    public bool WritesXRateLimit { get; }

    public bool WritesIetf { get; }

    public void Write(IHeaderDictionary headers, in WindowDecision decision)
    {
        var rule = decision.Rule!;
        _rules.TryGetValue(rule, out var text);
        if (WritesXRateLimit)
        {
            if (text is not null)
            {
                headers[LimitHeader] = text.Limit;
                headers[RemainingHeader] = text.Remaining(decision.Remaining);
                headers[ResetHeader] = text.Reset(decision.ResetUnixSeconds);
            }
            else
            {
                headers[LimitHeader] = rule.Limit.ToString(CultureInfo.InvariantCulture);
                headers[RemainingHeader] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
                headers[ResetHeader] = decision.ResetUnixSeconds.ToString(CultureInfo.InvariantCulture);
            }
        }
        if (WritesIetf)
        {
            var secondsToReset = Math.Max(0, decision.ResetUnixSeconds - _time.GetUtcNow().ToUnixTimeSeconds());
            if (text is not null)
            {
                headers[PolicyHeader] = text.Policy;
                headers[RateLimitHeader] = text.Current(decision.Remaining, secondsToReset);
            }
            else
            {
                headers[PolicyHeader] = RuleText.FormatPolicy(rule);
                headers[RateLimitHeader] = RuleText.FormatCurrent(rule.Name, decision.Remaining, secondsToReset);
            }
        }
    }

    /// <summary>
    /// The Models API's concurrency in the IETF fields (when they are on): <paramref name="limit"/> concurrent requests,
    /// <paramref name="held"/> of them in flight after this decision. Added beside a rate rule's policy when there is one.
    /// </summary>
    public void WriteConcurrency(IHeaderDictionary headers, int limit, int held)
    {
        if (!WritesIetf)
        {
            return;
        }
        var remaining = Math.Max(0, limit - held);
        string policy, current;
        if ((uint)limit <= MaxCachedConcurrency)
        {
            policy = _concurrencyPolicies[limit] ??= FormatConcurrencyPolicy(limit);
            var row = Volatile.Read(ref _concurrencyRemaining[limit]) ?? InitRow(limit);
            current = row[remaining] ??= RuleText.FormatCurrent(ConcurrencyPolicy, remaining, secondsToReset: null);
        }
        else
        {
            policy = FormatConcurrencyPolicy(limit);
            current = RuleText.FormatCurrent(ConcurrencyPolicy, remaining, secondsToReset: null);
        }
        Append(headers, PolicyHeader, policy);
        Append(headers, RateLimitHeader, current);
    }

    private string?[] InitRow(int limit)
    {
        var row = new string?[limit + 1];
        return Interlocked.CompareExchange(ref _concurrencyRemaining[limit], row, null) ?? row;
    }

    /// <summary>A second list member beside a rate rule's (a structured-field list may span field lines).</summary>
    private static void Append(IHeaderDictionary headers, string name, string value)
    {
        var existing = headers[name];
        headers[name] = existing.Count == 0 ? new Microsoft.Extensions.Primitives.StringValues(value) : Microsoft.Extensions.Primitives.StringValues.Concat(existing, value);
    }

    private static string FormatConcurrencyPolicy(int limit) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{ConcurrencyPolicy}\";q={limit};qu=\"concurrent-requests\"");

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
        private readonly string?[] _current = new string?[(int)Math.Min(rule.Limit, MaxCachedRemaining) + 1];
        private Formatted? _reset;

        public string Limit { get; } = rule.Limit.ToString(CultureInfo.InvariantCulture);

        /// <summary><c>RateLimit-Policy</c>: the rule's name, quota and window in seconds.</summary>
        public string Policy { get; } = FormatPolicy(rule);

        public static string FormatPolicy(RateRule rule) =>
            string.Create(CultureInfo.InvariantCulture, $"\"{rule.Name}\";q={rule.Limit};w={(long)rule.Window.TotalSeconds}");

        public static string FormatCurrent(string name, long remaining, long? secondsToReset) => secondsToReset is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={remaining};t={t}")
            : string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={remaining}");

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

        /// <summary>
        /// <c>RateLimit</c> for <paramref name="remaining"/> with <paramref name="secondsToReset"/> to go, reused while both
        /// repeat: the slot of a remaining count holds the last string made for it, still right when it ends in the same
        /// <c>;t=</c> (checked on the stack, so a hit allocates nothing and a miss only the new string).
        /// </summary>
        public string Current(long remaining, long secondsToReset)
        {
            if ((ulong)remaining >= (ulong)_current.Length)
            {
                return FormatCurrent(rule.Name, remaining, secondsToReset);
            }
            var cached = Volatile.Read(ref _current[remaining]);
            if (cached is not null && EndsWithReset(cached, secondsToReset))
            {
                return cached;
            }
            var fresh = FormatCurrent(rule.Name, remaining, secondsToReset);
            Volatile.Write(ref _current[remaining], fresh);
            return fresh;
        }

        private static bool EndsWithReset(string text, long secondsToReset)
        {
            Span<char> suffix = stackalloc char[24];
            ";t=".CopyTo(suffix);
            return secondsToReset.TryFormat(suffix[3..], out var written, default, CultureInfo.InvariantCulture)
                && text.AsSpan().EndsWith(suffix[..(3 + written)], StringComparison.Ordinal);
        }

        private sealed record Formatted(long Value, string Text);
    }
}
