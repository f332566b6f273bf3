using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Options;
using Tollgate.Backends.Reference.Signal;
using Tollgate.Backends.Reference.Velma;

namespace Tollgate.Backends.Reference.Contracts;

/// <summary>
/// The velma-2 results. Clips come from energy segmentation (text "", one speaker). With no transcript and no language
/// model, nothing is inferred: a conversation type or participant role is picked only when the config leaves a single
/// candidate ("auto_selected_single_option"), otherwise the config's fallback ("default", confidence 0); behaviors are
/// reported as not detected; topics and sentiments are empty and the summary is "".
/// </summary>
internal sealed class VelmaJson(VelmaConfig config)
{
    public const string SpeakerLabel = "1";
    private const string NoInference =
        "The reference backend has no speech recognizer or language model, so it cannot infer this from the conversation.";

    private readonly Dictionary<string, ParticipantRoleDef> _roles = new(StringComparer.Ordinal);

    public ConversationTypeDef? ConversationType { get; private set; }

    public static JsonObject Clip(Segment segment, SttOptions stt) => new()
    {
        ["clip_uuid"] = Guid.NewGuid().ToString(),
        ["text"] = "",
        ["start_ms"] = segment.StartMs,
        ["duration_ms"] = segment.DurationMs,
        ["speaker_label"] = SpeakerLabel,
        ["language"] = stt.ReportedLanguage,
        ["emotion"] = SttJson.Emotion(stt),
        ["accent"] = SttJson.Accent(stt),
        ["deepfake_score"] = SttJson.DeepfakeScore(stt, segment.DurationMs),
    };

    /// <summary>The <c>ConversationTypePick</c>, or null when there is no single candidate and no fallback.</summary>
    public JsonObject? ConversationTypePick()
    {
        var candidates = config.ConversationTypes;
        if (candidates.Count == 1)
        {
            ConversationType = candidates[0];
            return Pick("conversation_type_uuid", candidates[0].Id, candidates[0].Name, "auto_selected_single_option",
                "The only candidate conversation type.");
        }
        ConversationType = config.DefaultConversationType;
        return ConversationType is { } fallback
            ? Pick("conversation_type_uuid", fallback.Id, fallback.Name, "default", "Fallback conversation type. " + NoInference)
            : null;
    }

    /// <summary>One <c>ParticipantRolePick</c> per speaker that has a single applicable role or a fallback.</summary>
    public List<JsonObject> ParticipantRolePicks(IEnumerable<string> speakers)
    {
        var picks = new List<JsonObject>();
        var applicable = config.ParticipantRoles.Where(r => r.AppliesTo(ConversationType)).ToList();
        foreach (var speaker in speakers)
        {
            JsonObject pick;
            if (applicable.Count == 1)
            {
                _roles[speaker] = applicable[0];
                pick = Pick("participant_role_uuid", applicable[0].Id, applicable[0].Name, "auto_selected_single_option",
                    "The only candidate participant role for this conversation type.");
            }
            else if (config.DefaultParticipantRole is { } fallback)
            {
                _roles[speaker] = fallback;
                pick = Pick("participant_role_uuid", fallback.Id, fallback.Name, "default", "Fallback participant role. " + NoInference);
            }
            else
            {
                continue;
            }
            pick.Insert(0, "speaker_label", speaker);
            picks.Add(pick);
        }
        return picks;
    }

    /// <summary>
    /// A <c>BehaviorDetection</c> (never detected) per applicable behavior: for the whole conversation when it names no
    /// roles, else for each speaker whose picked role it names. Call after <see cref="ParticipantRolePicks"/>.
    /// </summary>
    public IEnumerable<JsonObject> BehaviorDetections()
    {
        foreach (var behavior in config.Behaviors.Where(b => b.AppliesTo(ConversationType)))
        {
            if (behavior.AppliesToParticipantRoles is null)
            {
                yield return Detection(behavior, null);
                continue;
            }
            foreach (var (speaker, role) in _roles)
            {
                if (behavior.AppliesToParticipantRoles.Contains(role.Id))
                {
                    yield return Detection(behavior, speaker);
                }
            }
        }
    }

    /// <summary>The summary text when one is requested: empty, as there is no transcript to summarise.</summary>
    public string? Summary => config.ProduceSummary ? "" : null;

    private static JsonObject Pick(string idField, Guid id, string name, string source, string detail) => new()
    {
        [idField] = id.ToString(),
        ["name"] = name,
        ["confidence"] = source == "default" ? 0.0 : 1.0,
        ["selection_source"] = source,
        ["detail"] = detail,
        ["reasoning"] = null,
    };

    private static JsonObject Detection(BehaviorDef behavior, string? speaker) => new()
    {
        ["behavior_uuid"] = behavior.Id.ToString(),
        ["behavior_name"] = behavior.Name,
        ["speaker_label"] = speaker,
        ["detected"] = false,
        ["confidence"] = null,
        ["evidence_clip_uuids"] = new JsonArray(),
        ["definitive_clip_uuid"] = null,
        ["reasoning"] = "Not evaluated. " + NoInference,
    };
}
