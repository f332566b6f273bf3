namespace Tollgate.RateLimiting;

/// <summary>
/// Fixed, clock-aligned request-rate windows counted per partition (a user id: all keys of a user share one pool).
/// </summary>
/// <remarks>
/// The contract is atomic: one call checks every rule of the set and, only if all of them have room, counts the
/// request in all of them. A rejected request consumes from no window, and no caller can observe a half-applied
/// decision (the Redis implementation does this as one Lua script). A counter is identified by
/// (partition, rule name ignoring case, window length): surfaces that carry the same rule share its count, and a
/// window resets completely at its boundary. Implementations read time from a <see cref="TimeProvider"/>.
/// </remarks>
public interface IWindowCounter
{
    /// <summary>Checks every rule of <paramref name="rules"/> for <paramref name="partition"/> and counts all-or-nothing.</summary>
    /// <param name="partition">The user id; not empty.</param>
    /// <param name="rules">The rules that apply to this request, from <see cref="RateLimitPolicy.GetRules"/>.</param>
    /// <param name="cancellationToken">Cancels a store round trip; the in-process store completes synchronously.</param>
    ValueTask<WindowDecision> TryAcquireAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default);

    /// <summary>
    /// What each rule of <paramref name="rules"/> has counted for <paramref name="partition"/> in its current window,
    /// without counting anything (for dashboards): per rule, in the set's order, the count and when the window ends.
    /// A rule with no count yet reads 0 in the window that contains now. Like a decision, a counter already in a later
    /// window (another node's clock ran ahead) reads in that window.
    /// </summary>
    /// <param name="partition">The user id; not empty.</param>
    /// <param name="rules">The rules to read.</param>
    /// <param name="cancellationToken">Cancels a store round trip; the in-process store completes synchronously.</param>
    ValueTask<IReadOnlyList<WindowUsage>> PeekAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default);
}

/// <summary>One rule's current window for one partition, as <see cref="IWindowCounter.PeekAsync"/> read it.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="Used">Requests counted in the window.</param>
/// <param name="ResetUnixSeconds">Unix seconds at which the window ends (its count starts again from 0).</param>
public readonly record struct WindowUsage(RateRule Rule, long Used, long ResetUnixSeconds)
{
    /// <summary>Requests the window still admits, at least 0.</summary>
    public long Remaining => Math.Max(0, Rule.Limit - Used);
}
