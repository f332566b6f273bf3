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
}
