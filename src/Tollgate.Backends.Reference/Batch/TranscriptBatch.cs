using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Contracts;
using Tollgate.Backends.Reference.Options;
using Tollgate.Backends.Reference.Velma;

namespace Tollgate.Backends.Reference.Batch;

/// <summary>The transcript-shaped batch answers: STT, PII/PHI redaction metadata and velma-2 (see <see cref="SttJson"/>, <see cref="VelmaJson"/>).</summary>
internal static class TranscriptBatch
{
    /// <summary>velma-2-stt-batch: <c>TranscriptionResponse</c> with one utterance per segment.</summary>
    public static JsonObject Stt(BatchSignal signal, SttOptions stt) => new()
    {
        ["text"] = "",
        ["duration_ms"] = signal.DurationMs,
        ["utterances"] = new JsonArray([.. signal.SegmentsOrWhole.Select(s => SttJson.Utterance(s, stt))]),
    };

    /// <summary>The vfast endpoints: the transcript (empty) and the duration.</summary>
    public static JsonObject TextOnly(long durationMs) => new()
    {
        ["text"] = "",
        ["duration_ms"] = durationMs,
    };

    /// <summary>velma-2-pii-phi-redaction-batch <c>RedactionMetadata</c>: nothing found, so no range is silenced.</summary>
    public static JsonObject PiiMetadata(BatchSignal signal, SttOptions stt) => new()
    {
        ["text"] = "",
        ["duration_ms"] = signal.DurationMs,
        ["utterances"] = new JsonArray([.. signal.SegmentsOrWhole.Select(s => SttJson.PiiUtterance(s, stt))]),
        ["redaction_ranges"] = new JsonArray(),
    };

    /// <summary>velma-2-batch <c>BatchResponse</c>.</summary>
    public static JsonObject Velma(BatchSignal signal, VelmaConfig config)
    {
        var clips = signal.SegmentsOrWhole.Select(s => VelmaJson.Clip(s, config.Stt)).ToList();
        var analysis = new VelmaJson(config);
        var response = new JsonObject
        {
            ["duration_ms"] = signal.DurationMs,
            ["clips"] = new JsonArray([.. clips]),
            ["conversation_type_pick"] = analysis.ConversationTypePick(),
            ["participant_role_picks"] = new JsonArray([.. analysis.ParticipantRolePicks(clips.Count > 0 ? [VelmaJson.SpeakerLabel] : [])]),
            ["behaviors"] = new JsonArray([.. analysis.BehaviorDetections()]),
        };
        if (config.ProduceTopics)
        {
            response["topics"] = new JsonArray();
        }
        if (config.ProduceTopicSentiments)
        {
            response["topic_sentiments"] = new JsonArray();
        }
        response["summary"] = analysis.Summary;
        return response;
    }
}
