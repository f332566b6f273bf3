namespace Tollgate.RateLimiting;

/// <summary>
/// Turns the counts of one all-or-nothing window decision into its <see cref="WindowDecision"/>: which rule the headers
/// name and, when refused, which rule blocked and for how long. Every <see cref="IWindowCounter"/> decides through it,
/// so the headers of a request are the same whichever store counted it.
/// </summary>
internal static class WindowVerdict
{
    /// <param name="rules">The rules of the request, in configured order.</param>
    /// <param name="counts">Per rule, its window's count after the decision (the request included when admitted).</param>
    /// <param name="ends">Per rule, the Unix ticks at which the window it was counted in ends.</param>
    /// <param name="admitted">Whether every rule had room (and the request was counted in all of them).</param>
    /// <param name="now">The decision's time, in Unix ticks.</param>
    public static WindowDecision Decide(ReadOnlySpan<RateRule> rules, ReadOnlySpan<long> counts, ReadOnlySpan<long> ends, bool admitted, long now)
    {
        // Most restrictive: fewest remaining after this request; ties: later reset; then the rule listed first.
        // Blocking (rejected only): among exhausted rules, the one resetting last.
        RateRule? headerRule = null, blockingRule = null;
        long headerRemaining = 0, headerEnd = 0, blockingEnd = 0;
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            var remaining = Math.Max(0, rule.Limit - counts[i]);
            var end = ends[i];
            if (headerRule is null || remaining < headerRemaining || (remaining == headerRemaining && end > headerEnd))
            {
                (headerRule, headerRemaining, headerEnd) = (rule, remaining, end);
            }
            if (!admitted && counts[i] >= rule.Limit && (blockingRule is null || end > blockingEnd))
            {
                (blockingRule, blockingEnd) = (rule, end);
            }
        }

        return admitted
            ? new WindowDecision(true, headerRule, headerRemaining, FixedWindow.ToUnixSeconds(headerEnd), null, 0)
            : new WindowDecision(false, headerRule, headerRemaining, FixedWindow.ToUnixSeconds(headerEnd), blockingRule,
                FixedWindow.SecondsUntil(now, blockingEnd));
    }
}
