using System.Collections.Frozen;

namespace Tollgate.RateLimiting;

/// <summary>
/// Validated <see cref="RateLimitOptions"/> compiled for the hot path: for every (surface, operation class) the
/// <see cref="RuleSet"/> that applies, computed once. Register one per configuration as a singleton.
/// </summary>
internal sealed class RateLimitPolicy
{
    private readonly FrozenDictionary<string, RuleSet[]> _bySurface;

    /// <exception cref="InvalidOperationException">The options are invalid; the message lists every problem by its path.</exception>
    public RateLimitPolicy(RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(RateLimitValidator.Format(errors));
        }
        Options = options;
        var rules = new Dictionary<string, RateRule>(options.Rules, StringComparer.OrdinalIgnoreCase);
        var bySurface = new Dictionary<string, RuleSet[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var surface in RateLimitOptions.KnownSurfaces)
        {
            var names = options.Surfaces.FirstOrDefault(s => string.Equals(s.Key, surface, StringComparison.OrdinalIgnoreCase)).Value ?? [];
            var carried = names.Select(name => rules[name.Trim()]).ToArray();
            bySurface[surface] =
            [
                RuleSet.FromValidated(carried.Where(r => r.AppliesToOperation(OperationClass.Safe))),
                RuleSet.FromValidated(carried.Where(r => r.AppliesToOperation(OperationClass.Unsafe))),
            ];
        }
        _bySurface = bySurface.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The policy of <see cref="RateLimitOptions.Default"/>.</summary>
    public static RateLimitPolicy Default { get; } = new(RateLimitOptions.Default);

    public RateLimitOptions Options { get; }

    /// <summary>The rules a request of <paramref name="operation"/> on <paramref name="surface"/> must pass (possibly none).</summary>
    /// <param name="surface">One of <see cref="RateLimitOptions.KnownSurfaces"/>, ignoring case.</param>
    /// <exception cref="ArgumentOutOfRangeException">Unknown surface or operation class.</exception>
    public RuleSet GetRules(string surface, OperationClass operation)
    {
        ArgumentNullException.ThrowIfNull(surface);
        if (!_bySurface.TryGetValue(surface, out var sets))
        {
            throw new ArgumentOutOfRangeException(nameof(surface), surface, $"The surfaces are {string.Join(", ", RateLimitOptions.KnownSurfaces)}.");
        }
        return (uint)operation < (uint)sets.Length
            ? sets[(int)operation]
            : throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
    }

    /// <summary>Whether any request on <paramref name="surface"/> is rate-limited (then every response carries the headers).</summary>
    public bool IsLimited(string surface) => !GetRules(surface, OperationClass.Safe).IsEmpty || !GetRules(surface, OperationClass.Unsafe).IsEmpty;
}
