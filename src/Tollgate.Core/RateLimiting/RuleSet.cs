using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Tollgate.RateLimiting;

/// <summary>
/// The rules one kind of request must pass, in configured order: computed once per (surface, operation class) by
/// <see cref="RateLimitPolicy"/>, never per request.
/// </summary>
public sealed class RuleSet
{
    internal readonly RateRule[] Items;

    private RuleSet(RateRule[] items)
    {
        Items = items;
    }

    /// <summary>No rules: every request is admitted and no rate-limit headers apply.</summary>
    public static RuleSet Empty { get; } = new([]);

    public ImmutableArray<RateRule> Rules => ImmutableCollectionsMarshal.AsImmutableArray(Items);

    public int Count => Items.Length;

    public bool IsEmpty => Items.Length == 0;

    /// <summary>A rule set from rules given in code (tests, benchmarks, other stores).</summary>
    /// <exception cref="ArgumentException">A rule is invalid or two share a name; the message lists every problem.</exception>
    public static RuleSet Create(params RateRule[] rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in rules)
        {
            ArgumentNullException.ThrowIfNull(rule, nameof(rules));
            var path = RateLimitValidator.RulePath(rule.Name);
            RateLimitValidator.CheckName(rule.Name, path, errors);
            RateLimitValidator.CheckRule(rule, path, errors);
            if (!names.Add(rule.Name))
            {
                errors.Add($"{path}: a rule set may hold a rule name only once.");
            }
        }
        return errors.Count == 0 ? FromValidated(rules) : throw new ArgumentException(RateLimitValidator.Format(errors), nameof(rules));
    }

    internal static RuleSet FromValidated(IEnumerable<RateRule> rules)
    {
        var items = rules.ToArray();
        return items.Length == 0 ? Empty : new RuleSet(items);
    }

    public override string ToString() => IsEmpty ? "(no rules)" : string.Join(", ", Items.Select(r => r.Name));
}
