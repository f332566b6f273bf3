using System.Text.RegularExpressions;

namespace Tollgate.Backends.Reference.Options;

/// <summary>
/// The contracts' language hint: a case-insensitive ISO 639-1 code, BCP 47 subtags accepted
/// (<c>^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$</c>); only the primary subtag is used.
/// </summary>
internal static partial class LanguageHint
{
    /// <summary>The code the reference reports when no hint was given: ISO 639-2 "undetermined".</summary>
    public const string Undetermined = "und";

    /// <summary>Validates <paramref name="value"/> and returns its primary subtag in lower case.</summary>
    public static bool TryParse(string value, out string primary)
    {
        if (!Pattern().IsMatch(value))
        {
            primary = "";
            return false;
        }
        primary = value.Split('-', '_')[0].ToLowerInvariant();
        return true;
    }

    /// <summary>The contracts' error text for a hint that does not match the pattern.</summary>
    public static string InvalidMessage(string value) =>
        $"Invalid language='{value}'. Expected an ISO 639-1 language code (e.g. 'en', 'fr').";

    [GeneratedRegex("^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
