using System.Globalization;

namespace Tollgate.Backends.Reference.Options;

/// <summary>Form fields and query parameters as the contracts' (FastAPI) servers read them.</summary>
internal static class FormValues
{
    /// <summary>true/false, 1/0, yes/no, on/off, t/f, y/n, case-insensitive.</summary>
    public static bool TryBool(string value, out bool result)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on" or "t" or "y":
                result = true;
                return true;
            case "false" or "0" or "no" or "off" or "f" or "n":
                result = false;
                return true;
            default:
                result = false;
                return false;
        }
    }

    /// <summary>A whole number ≥ 0.</summary>
    public static bool TryNonNegative(string value, out int result) =>
        int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result) && result >= 0;

    /// <summary>The value of <paramref name="name"/> when present and not blank.</summary>
    public static bool TryGet(IReadOnlyDictionary<string, string> values, string name, out string value)
    {
        if (values.TryGetValue(name, out var found) && !string.IsNullOrWhiteSpace(found))
        {
            value = found;
            return true;
        }
        value = "";
        return false;
    }
}
