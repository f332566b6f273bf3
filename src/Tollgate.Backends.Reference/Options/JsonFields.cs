using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Backends.Reference.Options;

/// <summary>Strict reads of JSON values (no coercion: a boolean field must hold a JSON boolean).</summary>
internal static class JsonFields
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32 };

    /// <summary>Parses a JSON object, or null when the text is not one.</summary>
    public static JsonObject? ParseObject(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: Options) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static bool IsString(JsonNode? node, out string value)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }
        value = "";
        return false;
    }

    public static bool IsBool(JsonNode? node, out bool value)
    {
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            value = v.GetValue<bool>();
            return true;
        }
        value = false;
        return false;
    }

    public static bool IsUuid(JsonNode? node, out Guid value)
    {
        value = Guid.Empty;
        return IsString(node, out var text) && Guid.TryParse(text, out value);
    }

    /// <summary>An optional property: absent or null gives null, otherwise an array of uuids.</summary>
    public static bool IsOptionalUuidList(JsonObject obj, string name, out IReadOnlyList<Guid>? value)
    {
        value = null;
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            return true;
        }
        if (node is not JsonArray array)
        {
            return false;
        }
        var list = new List<Guid>(array.Count);
        foreach (var item in array)
        {
            if (!IsUuid(item, out var id))
            {
                return false;
            }
            list.Add(id);
        }
        value = list;
        return true;
    }
}
