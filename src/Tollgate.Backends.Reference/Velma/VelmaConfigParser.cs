using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Options;

namespace Tollgate.Backends.Reference.Velma;

/// <summary>
/// Reads a velma-2 config: the literal <c>default</c>, or a JSON BatchConfig validated against the contract's schema
/// (definitions with their required fields and uuids, <c>preset:&lt;identifier&gt;</c> references that exist, STT
/// options, booleans). Unknown keys are ignored, as the schema does not forbid them. Any violation: null.
/// </summary>
internal static class VelmaConfigParser
{
    private const string PresetPrefix = "preset:";

    public static VelmaConfig? Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed is "default" or "\"default\"")
        {
            return VelmaConfig.Default;
        }
        return JsonFields.ParseObject(trimmed) is { } obj ? Parse(obj) : null;
    }

    private static VelmaConfig? Parse(JsonObject obj)
    {
        var config = VelmaConfig.Default;
        foreach (var (name, value) in obj)
        {
            switch (name)
            {
                case "conversation_types":
                    if (!TryList(value, ReadConversationType, out var types))
                    {
                        return null;
                    }
                    config = config with { ConversationTypes = types };
                    break;
                case "participant_roles":
                    if (!TryList(value, ReadParticipantRole, out var roles))
                    {
                        return null;
                    }
                    config = config with { ParticipantRoles = roles };
                    break;
                case "behaviors":
                    if (!TryList(value, ReadBehaviorOrPreset, out var behaviors))
                    {
                        return null;
                    }
                    config = config with { Behaviors = behaviors };
                    break;
                case "stt":
                    if (value is not JsonObject stt || !SttConfigReader.TryApply(stt, SttOptions.Default, false, out var options, out _))
                    {
                        return null;
                    }
                    config = config with { Stt = options };
                    break;
                case "produce_topics" or "produce_topic_sentiments" or "produce_summary":
                    if (!JsonFields.IsBool(value, out var flag))
                    {
                        return null;
                    }
                    config = name switch
                    {
                        "produce_topics" => config with { ProduceTopics = flag },
                        "produce_topic_sentiments" => config with { ProduceTopicSentiments = flag },
                        _ => config with { ProduceSummary = flag },
                    };
                    break;
                case "default_conversation_type":
                    var type = value is null ? null : ReadConversationType(value);
                    if (value is not null && type is null)
                    {
                        return null;
                    }
                    config = config with { DefaultConversationType = type };
                    break;
                case "default_participant_role":
                    var role = value is null ? null : ReadParticipantRole(value);
                    if (value is not null && role is null)
                    {
                        return null;
                    }
                    config = config with { DefaultParticipantRole = role };
                    break;
            }
        }
        return config;
    }

    private static bool TryList<T>(JsonNode? node, Func<JsonNode?, T?> read, out IReadOnlyList<T> list) where T : class
    {
        var items = new List<T>();
        list = items;
        if (node is not JsonArray array)
        {
            return false;
        }
        foreach (var item in array)
        {
            if (read(item) is not { } parsed)
            {
                return false;
            }
            items.Add(parsed);
        }
        return true;
    }

    private static bool TryCommon(JsonNode? node, string idField, out JsonObject obj, out Guid id, out string name, out string shortText, out string detailed)
    {
        obj = node as JsonObject ?? [];
        id = Guid.Empty;
        name = shortText = detailed = "";
        return node is JsonObject
            && JsonFields.IsUuid(obj[idField], out id)
            && JsonFields.IsString(obj["name"], out name) && name.Length > 0
            && JsonFields.IsString(obj["short_description"], out shortText)
            && JsonFields.IsString(obj["detailed_description"], out detailed);
    }

    private static ConversationTypeDef? ReadConversationType(JsonNode? node) =>
        TryCommon(node, "conversation_type_uuid", out _, out var id, out var name, out var s, out var d)
            ? new ConversationTypeDef(id, name, s, d)
            : null;

    private static ParticipantRoleDef? ReadParticipantRole(JsonNode? node) =>
        TryCommon(node, "participant_role_uuid", out var obj, out var id, out var name, out var s, out var d)
        && JsonFields.IsOptionalUuidList(obj, "applies_to_conversation_type_uuids", out var types)
            ? new ParticipantRoleDef(id, name, s, d, types)
            : null;

    private static BehaviorDef? ReadBehaviorOrPreset(JsonNode? node)
    {
        if (JsonFields.IsString(node, out var reference))
        {
            return reference.StartsWith(PresetPrefix, StringComparison.Ordinal)
                && PresetCatalog.TryGet(reference[PresetPrefix.Length..], out var preset)
                ? preset
                : null;
        }
        return TryCommon(node, "behavior_uuid", out var obj, out var id, out var name, out var s, out var d)
            && JsonFields.IsOptionalUuidList(obj, "applies_to_conversation_type_uuids", out var types)
            && JsonFields.IsOptionalUuidList(obj, "applies_to_participant_role_uuids", out var roles)
                ? new BehaviorDef(id, name, s, d, types, roles)
                : null;
    }
}
