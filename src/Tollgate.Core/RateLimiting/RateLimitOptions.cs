using System.Collections.ObjectModel;

namespace Tollgate.RateLimiting;

/// <summary>
/// The request-rate rules and which surfaces carry them (DESIGN 3.4), immutable. Built from configuration by
/// <see cref="RateLimitSettings.ToOptions"/>, or in code; compiled for the hot path by <see cref="RateLimitPolicy"/>.
/// </summary>
/// <param name="Rules">Rules by name (the key equals <see cref="RateRule.Name"/>).</param>
/// <param name="Surfaces">
/// Surface name (<see cref="KnownSurfaces"/>) → the names of the rules it carries, in order. A surface that is absent or
/// has an empty list is not rate-limited.
/// </param>
internal sealed record RateLimitOptions(
    IReadOnlyDictionary<string, RateRule> Rules,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Surfaces)
{
    /// <summary>The configuration section these options are bound from: <c>Tollgate:RateLimits</c>.</summary>
    public const string SectionPath = "Tollgate:RateLimits";

    public const string Models = "Models";
    public const string Platform = "Platform";
    public const string Dubbing = "Dubbing";

    /// <summary>The surfaces rules can be attached to.</summary>
    public static IReadOnlyList<string> KnownSurfaces { get; } = Array.AsReadOnly([Models, Platform, Dubbing]);

    /// <summary>
    /// DESIGN 3.4: <c>global</c> 15,000/min (all), <c>safe</c> 10,000/min (GET, HEAD), <c>unsafe-minute</c> 500/min and
    /// <c>unsafe-hour</c> 20,000/hour (POST, PATCH, PUT, DELETE); the Dubbing surface carries all four, the others none.
    /// </summary>
    public static RateLimitOptions Default { get; } = CreateDefault();

    /// <summary>Every problem with these options, each naming its configuration path; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        RateLimitValidator.ValidateOptions(this, errors);
        return errors;
    }

    private static RateLimitOptions CreateDefault()
    {
        RateRule[] rules =
        [
            new("global", 15_000, TimeSpan.FromMinutes(1), RuleScope.All),
            new("safe", 10_000, TimeSpan.FromMinutes(1), RuleScope.Safe),
            new("unsafe-minute", 500, TimeSpan.FromMinutes(1), RuleScope.Unsafe),
            new("unsafe-hour", 20_000, TimeSpan.FromHours(1), RuleScope.Unsafe),
        ];
        var byName = new Dictionary<string, RateRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in rules)
        {
            byName.Add(rule.Name, rule);
        }
        var surfaces = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            [Models] = Array.Empty<string>(),
            [Platform] = Array.Empty<string>(),
            [Dubbing] = Array.AsReadOnly(rules.Select(r => r.Name).ToArray()),
        };
        return new RateLimitOptions(new ReadOnlyDictionary<string, RateRule>(byName), new ReadOnlyDictionary<string, IReadOnlyList<string>>(surfaces));
    }
}
