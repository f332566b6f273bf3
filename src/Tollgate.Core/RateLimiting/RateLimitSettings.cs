using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tollgate.RateLimiting;

/// <summary>
/// The bindable form of the <c>Tollgate:RateLimits</c> section (appsettings.json, env <c>Tollgate__RateLimits__...</c>).
/// Every value is kept as text so that <see cref="Validate"/> can report every bad setting at once, by its path;
/// <see cref="ToOptions"/> turns it into the immutable <see cref="RateLimitOptions"/>.
/// </summary>
/// <example>
/// <code>
/// "RateLimits": {
///   "Rules": {
///     "unsafe-minute": { "Limit": 300 },
///     "per-second":    { "Limit": 5, "Window": "1s", "AppliesTo": "All" }
///   },
///   "Surfaces": { "Dubbing": [ "global", "safe", "unsafe-minute", "unsafe-hour", "per-second" ], "Models": [ "per-second" ] }
/// }
/// </code>
/// or by environment: <c>Tollgate__RateLimits__Rules__per-second__Limit=5</c>, <c>Tollgate__RateLimits__Rules__per-second__Window=1s</c>,
/// <c>Tollgate__RateLimits__Surfaces__Dubbing=global,per-second</c>.
/// </example>
internal sealed record RateLimitSettings
{
    /// <summary>
    /// Rules by name (keys compared ignoring case). Starts with the four default rules of
    /// <see cref="RateLimitOptions.Default"/>, so configuration only states what it changes or adds.
    /// </summary>
    public Dictionary<string, RateRuleSettings?> Rules { get; set; } = DefaultRules();

    /// <summary>
    /// Surface name → the rules it carries. A surface that configuration does not mention keeps its default
    /// (Dubbing: the four default rules; Models, Platform: none); an empty list (<c>[]</c> or <c>""</c>) means none.
    /// </summary>
    public Dictionary<string, RuleNameList?> Surfaces { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every problem with these settings, each naming its configuration path; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        TryBuild(out _, out var errors);
        return errors;
    }

    /// <summary>The validated options.</summary>
    /// <exception cref="InvalidOperationException">The settings are invalid; the message lists every problem.</exception>
    public RateLimitOptions ToOptions() =>
        TryBuild(out var options, out var errors) ? options : throw new InvalidOperationException(RateLimitValidator.Format(errors));

    /// <summary>Builds the options, or gives every problem found.</summary>
    public bool TryBuild([NotNullWhen(true)] out RateLimitOptions? options, out IReadOnlyList<string> errors)
    {
        var list = new List<string>();
        options = RateLimitValidator.Build(this, list);
        errors = list;
        return options is not null;
    }

    private static Dictionary<string, RateRuleSettings?> DefaultRules()
    {
        var rules = new Dictionary<string, RateRuleSettings?>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in RateLimitOptions.Default.Rules.Values)
        {
            rules[rule.Name] = RateRuleSettings.From(rule);
        }
        return rules;
    }
}

/// <summary>One rule as configured: <c>Limit</c> (positive integer), <c>Window</c> and <c>AppliesTo</c>.</summary>
internal sealed class RateRuleSettings
{
    /// <summary>Requests per window: a positive integer. Required.</summary>
    public string? Limit { get; set; }

    /// <summary>
    /// The window: <c>1s</c>, <c>90s</c>, <c>1m</c>, <c>1h</c>, <c>1d</c> or <c>hh:mm:ss</c>; whole seconds from 1 second to
    /// 1 day. Required.
    /// </summary>
    public string? Window { get; set; }

    /// <summary><c>All</c> (default), <c>Safe</c> (GET, HEAD) or <c>Unsafe</c> (POST, PATCH, PUT, DELETE).</summary>
    public string? AppliesTo { get; set; }

    internal static RateRuleSettings From(RateRule rule) => new()
    {
        Limit = rule.Limit.ToString(CultureInfo.InvariantCulture),
        Window = RateLimitValidator.FormatWindow(rule.Window),
        AppliesTo = rule.AppliesTo.ToString(),
    };
}

/// <summary>
/// The rule names a surface carries. Binds from a JSON array (<c>["global", "safe"]</c>, <c>[]</c> for none) or from a
/// single comma-separated value (<c>global,safe</c>; empty for none), which is what an environment variable can give.
/// </summary>
[TypeConverter(typeof(RuleNameListConverter))]
internal sealed class RuleNameList : List<string>
{
    public RuleNameList()
    {
    }

    public RuleNameList(IEnumerable<string> names)
        : base(names)
    {
    }

    /// <summary>Splits <c>"a, b,c"</c> into its names; blank entries are dropped.</summary>
    public static RuleNameList Parse(string? value) =>
        new((value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}

internal sealed class RuleNameListConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text ? RuleNameList.Parse(text) : base.ConvertFrom(context, culture, value);
}
