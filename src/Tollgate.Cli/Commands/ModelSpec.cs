using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Commands;

/// <summary>
/// One <c>--model</c> value of <c>tollgate keys create</c>: <c>velma-2-stt-batch:concurrency=5,hours=10</c>.
/// Only the syntax is checked here; the server judges the model name and the ranges.
/// </summary>
internal sealed record ModelSpec(string Model, ModelLimits Limits)
{
    public const string Syntax = "<model>:concurrency=<n>,hours=<h>";
    public const string Example = "velma-2-stt-batch:concurrency=5,hours=10";

    public static bool TryParse(string? text, [NotNullWhen(true)] out ModelSpec? spec, [NotNullWhen(false)] out string? error)
    {
        spec = null;
        text = text?.Trim();
        var colon = text?.IndexOf(':') ?? -1;
        if (string.IsNullOrEmpty(text) || colon < 0)
        {
            return Fail($"'{text}' is not a model spec: expected {Syntax}, e.g. {Example}.", out error);
        }
        var model = text[..colon].Trim();
        if (model.Length == 0 || model.Any(char.IsWhiteSpace))
        {
            return Fail($"'{text}': the model name before ':' is missing or contains spaces; expected {Syntax}.", out error);
        }

        int? concurrency = null;
        double? hours = null;
        foreach (var setting in text[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries))
        {
            var equals = setting.IndexOf('=');
            var name = equals < 0 ? setting : setting[..equals].Trim();
            var value = equals < 0 ? "" : setting[(equals + 1)..].Trim();
            if (setting.Length == 0 || equals < 0 || value.Length == 0)
            {
                return Fail($"'{text}': '{setting}' is not a setting; expected {Syntax}.", out error);
            }
            switch (name.ToLowerInvariant())
            {
                case "concurrency" when concurrency is not null:
                case "hours" when hours is not null:
                    return Fail($"'{text}': {name} is given twice.", out error);
                case "concurrency":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var c))
                    {
                        return Fail($"'{text}': concurrency must be a whole number, not '{value}'.", out error);
                    }
                    concurrency = c;
                    break;
                case "hours":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var h) || !double.IsFinite(h))
                    {
                        return Fail($"'{text}': hours must be a number (monthly audio hours, e.g. 10 or 0.5), not '{value}'.", out error);
                    }
                    hours = h;
                    break;
                default:
                    return Fail($"'{text}': unknown setting '{name}'; the settings are concurrency and hours.", out error);
            }
        }

        if (concurrency is null || hours is null)
        {
            var missing = concurrency is null && hours is null ? "concurrency and hours are" : concurrency is null ? "concurrency is" : "hours is";
            return Fail($"'{text}': {missing} required; expected {Syntax}, e.g. {Example}.", out error);
        }
        spec = new ModelSpec(model, new ModelLimits(concurrency.Value, hours.Value));
        error = null;
        return true;
    }

    /// <summary>Several specs into the create-key body's <c>models</c>; one model given twice is an error.</summary>
    public static bool TryParseAll(IEnumerable<string> texts, [NotNullWhen(true)] out IReadOnlyDictionary<string, ModelLimits>? models, [NotNullWhen(false)] out string? error)
    {
        models = null;
        var result = new Dictionary<string, ModelLimits>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            if (!TryParse(text, out var spec, out error))
            {
                return false;
            }
            if (!result.TryAdd(spec.Model, spec.Limits))
            {
                return Fail($"--model {spec.Model} is given twice; give each model once.", out error);
            }
        }
        if (result.Count == 0)
        {
            return Fail($"At least one --model {Syntax} is required, e.g. --model {Example}.", out error);
        }
        models = result;
        error = null;
        return true;
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
