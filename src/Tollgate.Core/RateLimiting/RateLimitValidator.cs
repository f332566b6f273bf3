using System.Collections.ObjectModel;
using System.Globalization;

namespace Tollgate.RateLimiting;

/// <summary>
/// Checks rate-limit configuration and collects every problem, each prefixed with its configuration path
/// (<c>Tollgate:RateLimits:Rules:unsafe-minute:Limit must be a positive integer (was 0).</c>).
/// </summary>
internal static class RateLimitValidator
{
    private const string Root = RateLimitOptions.SectionPath;
    private const int MaxNameLength = 64;
    private static readonly TimeSpan MaxWindow = TimeSpan.FromDays(1);
    private const string ScopeChoices = "All, Safe (GET, HEAD) or Unsafe (POST, PATCH, PUT, DELETE)";
    private const string WindowExamples = "1s, 90s, 1m, 1h, 1d or 00:01:00";

    public static string RulePath(string name) => $"{Root}:Rules:{name}";

    public static string Format(IReadOnlyList<string> errors) =>
        $"Invalid request-rate configuration ({errors.Count} {(errors.Count == 1 ? "error" : "errors")}):{Environment.NewLine}  - "
        + string.Join(Environment.NewLine + "  - ", errors);

    /// <summary>Settings → options; null when anything is wrong (then <paramref name="errors"/> says what).</summary>
    public static RateLimitOptions? Build(RateLimitSettings settings, List<string> errors)
    {
        var configuredRules = settings.Rules ?? [];
        var configuredSurfaces = settings.Surfaces ?? [];
        var declared = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase); // any casing → the key as written
        var rules = new Dictionary<string, RateRule>(StringComparer.OrdinalIgnoreCase);
        CheckUnique(configuredRules.Keys, $"{Root}:Rules", "rule names", errors);
        foreach (var (name, rule) in configuredRules)
        {
            declared.TryAdd(name, name);
            var path = RulePath(name);
            var nameOk = CheckName(name, path, errors);
            if (rule is null)
            {
                errors.Add($"{path} has no settings: give at least Limit and Window.");
                continue;
            }
            var limitOk = TryParseLimit(rule.Limit, $"{path}:Limit", errors, out var limit);
            var windowOk = TryParseWindow(rule.Window, $"{path}:Window", errors, out var window);
            var scopeOk = TryParseScope(rule.AppliesTo, $"{path}:AppliesTo", errors, out var scope);
            if (nameOk && limitOk && windowOk && scopeOk)
            {
                rules.TryAdd(name, new RateRule(name, limit, window, scope));
            }
        }

        var surfaces = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        CheckUnique(configuredSurfaces.Keys, $"{Root}:Surfaces", "surface names", errors);
        foreach (var (surface, names) in configuredSurfaces)
        {
            var path = $"{Root}:Surfaces:{surface}";
            var known = KnownSurface(surface, path, errors);
            var resolved = CheckSurfaceRules(names ?? [], path, declared, errors);
            if (known is not null)
            {
                surfaces.TryAdd(known, resolved);
            }
        }
        // A surface configuration does not mention keeps its default list, which must still name defined rules.
        foreach (var (surface, defaults) in RateLimitOptions.Default.Surfaces)
        {
            if (surfaces.ContainsKey(surface))
            {
                continue;
            }
            var missing = defaults.Where(name => !declared.ContainsKey(name)).ToList();
            if (missing.Count > 0)
            {
                errors.Add($"{Root}:Surfaces:{surface} is not set, and the rules it carries by default ({string.Join(", ", missing)}) are not defined: list its rules, or [] for none.");
                continue;
            }
            surfaces[surface] = defaults.Select(name => declared[name]).ToList().AsReadOnly();
        }

        return errors.Count == 0
            ? new RateLimitOptions(new ReadOnlyDictionary<string, RateRule>(rules), new ReadOnlyDictionary<string, IReadOnlyList<string>>(surfaces))
            : null;
    }

    /// <summary>Options built in code get the same checks as configuration.</summary>
    public static void ValidateOptions(RateLimitOptions options, List<string> errors)
    {
        var declared = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (options.Rules is null)
        {
            errors.Add($"{Root}:Rules is required.");
        }
        else
        {
            CheckUnique(options.Rules.Keys, $"{Root}:Rules", "rule names", errors);
            foreach (var (key, rule) in options.Rules)
            {
                declared.TryAdd(key, key);
                var path = RulePath(key);
                CheckName(key, path, errors);
                if (rule is null)
                {
                    errors.Add($"{path} has no rule.");
                    continue;
                }
                if (!string.Equals(rule.Name, key, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{path}:Name must equal its key '{key}' (was '{rule.Name}').");
                }
                CheckRule(rule, path, errors);
            }
        }
        if (options.Surfaces is null)
        {
            errors.Add($"{Root}:Surfaces is required.");
            return;
        }
        CheckUnique(options.Surfaces.Keys, $"{Root}:Surfaces", "surface names", errors);
        foreach (var (surface, names) in options.Surfaces)
        {
            var path = $"{Root}:Surfaces:{surface}";
            KnownSurface(surface, path, errors);
            CheckSurfaceRules(names ?? [], path, declared, errors);
        }
    }

    /// <summary>The value checks of one rule (name excepted): limit, window, scope.</summary>
    public static void CheckRule(RateRule rule, string path, List<string> errors)
    {
        if (rule.Limit < 1)
        {
            errors.Add($"{path}:Limit must be a positive integer (was {rule.Limit.ToString(CultureInfo.InvariantCulture)}).");
        }
        CheckWindow(rule.Window, rule.Window.ToString("c", CultureInfo.InvariantCulture), $"{path}:Window", errors);
        if (!Enum.IsDefined(rule.AppliesTo))
        {
            errors.Add($"{path}:AppliesTo must be one of {ScopeChoices} (was {(int)rule.AppliesTo}).");
        }
    }

    public static bool CheckName(string name, string path, List<string> errors)
    {
        var ok = name.Length is > 0 and <= MaxNameLength;
        foreach (var c in name)
        {
            ok &= char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
        }
        if (!ok)
        {
            errors.Add($"{path}: '{name}' is not a valid rule name: use 1 to {MaxNameLength} letters, digits, '-', '_' or '.'.");
        }
        return ok;
    }

    public static string FormatWindow(TimeSpan window)
    {
        var seconds = (long)window.TotalSeconds;
        if (window.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return window.ToString("c", CultureInfo.InvariantCulture);
        }
        return seconds switch
        {
            _ when seconds % 86_400 == 0 => $"{seconds / 86_400}d",
            _ when seconds % 3_600 == 0 => $"{seconds / 3_600}h",
            _ when seconds % 60 == 0 => $"{seconds / 60}m",
            _ => $"{seconds}s",
        };
    }

    /// <summary>
    /// <c>&lt;n&gt;ms|s|m|h|d</c> (e.g. <c>90s</c>, <c>1h</c>) or a TimeSpan (<c>00:01:00</c>, <c>1.00:00:00</c>). A bare number
    /// is refused: <c>60</c> would read as 60 days to TimeSpan and as 60 seconds to a person.
    /// </summary>
    internal static bool TryParseWindowText(string text, out TimeSpan window)
    {
        window = default;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return false;
        }
        if (span.Contains(':'))
        {
            return TimeSpan.TryParse(span, CultureInfo.InvariantCulture, out window);
        }
        var digits = 0;
        while (digits < span.Length && char.IsAsciiDigit(span[digits]))
        {
            digits++;
        }
        if (digits > 0 && digits < span.Length)
        {
            var unit = span[digits..].Trim();
            if (!long.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > 1_000_000_000)
            {
                return false;
            }
            long? ticksPerUnit = unit switch
            {
                _ when unit.Equals("ms", StringComparison.OrdinalIgnoreCase) => TimeSpan.TicksPerMillisecond,
                _ when unit.Equals("s", StringComparison.OrdinalIgnoreCase) => TimeSpan.TicksPerSecond,
                _ when unit.Equals("m", StringComparison.OrdinalIgnoreCase) => TimeSpan.TicksPerMinute,
                _ when unit.Equals("h", StringComparison.OrdinalIgnoreCase) => TimeSpan.TicksPerHour,
                _ when unit.Equals("d", StringComparison.OrdinalIgnoreCase) => TimeSpan.TicksPerDay,
                _ => null,
            };
            if (ticksPerUnit is not { } perUnit)
            {
                return false;
            }
            window = TimeSpan.FromTicks(count * perUnit);
            return true;
        }
        return false;
    }

    private static bool TryParseLimit(string? text, string path, List<string> errors, out long limit)
    {
        limit = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{path} is required: a positive integer, the requests admitted per window.");
            return false;
        }
        if (!long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit))
        {
            errors.Add($"{path} must be a positive integer (was '{text}').");
            return false;
        }
        if (limit < 1)
        {
            errors.Add($"{path} must be a positive integer (was {limit.ToString(CultureInfo.InvariantCulture)}).");
            return false;
        }
        return true;
    }

    private static bool TryParseWindow(string? text, string path, List<string> errors, out TimeSpan window)
    {
        window = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{path} is required: a duration such as {WindowExamples}.");
            return false;
        }
        if (!TryParseWindowText(text, out window))
        {
            errors.Add($"{path} must be a duration such as {WindowExamples} (was '{text}').");
            return false;
        }
        return CheckWindow(window, text.Trim(), path, errors);
    }

    private static bool CheckWindow(TimeSpan window, string shown, string path, List<string> errors)
    {
        if (window < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{path} must be at least 1 second (was {shown}).");
            return false;
        }
        if (window.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add($"{path} must be a whole number of seconds (was {shown}).");
            return false;
        }
        if (window > MaxWindow)
        {
            errors.Add($"{path} must be at most 1 day (was {shown}).");
            return false;
        }
        return true;
    }

    private static bool TryParseScope(string? text, string path, List<string> errors, out RuleScope scope)
    {
        scope = RuleScope.All;
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value) || value.Equals(nameof(RuleScope.All), StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (value.Equals(nameof(RuleScope.Safe), StringComparison.OrdinalIgnoreCase))
        {
            scope = RuleScope.Safe;
            return true;
        }
        if (value.Equals(nameof(RuleScope.Unsafe), StringComparison.OrdinalIgnoreCase))
        {
            scope = RuleScope.Unsafe;
            return true;
        }
        errors.Add($"{path} must be one of {ScopeChoices} (was '{text}').");
        return false;
    }

    private static string? KnownSurface(string surface, string path, List<string> errors)
    {
        foreach (var known in RateLimitOptions.KnownSurfaces)
        {
            if (string.Equals(known, surface, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }
        errors.Add($"{path}: there is no surface '{surface}'; the surfaces are {string.Join(", ", RateLimitOptions.KnownSurfaces)}.");
        return null;
    }

    /// <summary>Each listed name must be a declared rule, listed once; gives the names as the rules spell them.</summary>
    private static IReadOnlyList<string> CheckSurfaceRules(IReadOnlyList<string> names, string path, Dictionary<string, string> declared, List<string> errors)
    {
        var resolved = new List<string>(names.Count);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i]?.Trim() ?? "";
            if (!declared.TryGetValue(name, out var rule))
            {
                var known = declared.Count == 0 ? "none are defined" : "the rules are " + string.Join(", ", declared.Values.Order(StringComparer.OrdinalIgnoreCase));
                errors.Add($"{path}:{i} names no rule '{name}'; {known}.");
                continue;
            }
            if (!seen.Add(rule))
            {
                errors.Add($"{path}:{i} lists rule '{rule}' more than once.");
                continue;
            }
            resolved.Add(rule);
        }
        return resolved.AsReadOnly();
    }

    private static void CheckUnique(IEnumerable<string> keys, string path, string what, List<string> errors)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in keys)
        {
            if (!seen.TryAdd(key, key))
            {
                errors.Add($"{path}: {what} must be unique ignoring case; '{seen[key]}' and '{key}' collide.");
            }
        }
    }
}
