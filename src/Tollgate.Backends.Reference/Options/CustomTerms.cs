using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Backends.Reference.Options;

/// <summary>
/// Validates <c>custom_terms</c> as the contracts describe it: null, or at most 1000 entries, each a string or a
/// CustomTerm (<c>term</c> non-empty, <c>definition</c> ≤ 256 characters, ≤ 16 printable-ASCII <c>pronunciations</c>
/// of ≤ 128 characters); blank terms are dropped; the kept terms, serialized as JSON, total under 8000 characters.
/// </summary>
internal static class CustomTerms
{
    public static bool TryValidate(JsonNode? node, out int kept)
    {
        kept = 0;
        if (node is null)
        {
            return true;
        }
        if (node is not JsonArray entries || entries.Count > 1000)
        {
            return false;
        }
        var terms = new List<string>();
        foreach (var entry in entries)
        {
            string? term;
            if (JsonFields.IsString(entry, out var plain))
            {
                term = plain;
            }
            else if (entry is JsonObject custom && TryCustomTerm(custom, out var structured))
            {
                term = structured;
            }
            else
            {
                return false;
            }
            if (!string.IsNullOrWhiteSpace(term))
            {
                terms.Add(term);
            }
        }
        kept = terms.Count;
        return JsonSerializer.Serialize(terms).Length < 8000;
    }

    private static bool TryCustomTerm(JsonObject custom, out string term)
    {
        term = "";
        if (!JsonFields.IsString(custom["term"], out term) || term.Length < 1)
        {
            return false;
        }
        if (custom.TryGetPropertyValue("definition", out var definition)
            && !(JsonFields.IsString(definition, out var text) && text.Length <= 256))
        {
            return false;
        }
        if (custom.TryGetPropertyValue("pronunciations", out var pronunciations))
        {
            if (pronunciations is not JsonArray list || list.Count > 16)
            {
                return false;
            }
            foreach (var item in list)
            {
                if (!JsonFields.IsString(item, out var hint) || hint.Length > 128 || hint.Any(c => c is < ' ' or > '~'))
                {
                    return false;
                }
            }
        }
        return true;
    }
}
