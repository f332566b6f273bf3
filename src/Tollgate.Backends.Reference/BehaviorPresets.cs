using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Velma;

namespace Tollgate.Backends.Reference;

/// <summary>The list-presets endpoints of velma-2-batch and velma-2-streaming.</summary>
internal static class BehaviorPresets
{
    /// <summary>The contracts' <c>ListPresetsResponse</c>: every preset usable as <c>preset:&lt;identifier&gt;</c>.</summary>
    public static JsonObject ListResponse()
    {
        var presets = new JsonArray();
        foreach (var preset in PresetCatalog.All)
        {
            presets.Add(new JsonObject
            {
                ["identifier"] = preset.Identifier,
                ["name"] = preset.Behavior.Name,
                ["short_description"] = preset.Behavior.ShortDescription,
                ["detailed_description"] = preset.Behavior.DetailedDescription,
            });
        }
        return new JsonObject { ["presets"] = presets };
    }
}
