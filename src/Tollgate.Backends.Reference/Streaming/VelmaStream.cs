using Tollgate.Backends.Reference.Contracts;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// velma-2-streaming: a <c>clip</c> per energy segment as it ends; at the end of the audio the session's
/// <c>conversation_type</c> and <c>participant_role</c> picks, a <c>behavior_detection</c> per configured behavior,
/// <c>topics</c> and <c>summary</c> when the config asks for them (see <see cref="VelmaJson"/>), then <c>done</c>.
/// </summary>
internal sealed class VelmaStream(StreamSettings settings) : ModelStream(settings)
{
    private bool _heardSpeaker;

    public override SignalFeatures Features => SignalFeatures.Segments;

    public override void OnSegment(Segment segment)
    {
        _heardSpeaker = true;
        Emit("clip", "clip", VelmaJson.Clip(segment, Settings.Velma.Stt));
    }

    public override void Finish(long durationMs)
    {
        var config = Settings.Velma;
        var analysis = new VelmaJson(config);
        if (analysis.ConversationTypePick() is { } pick)
        {
            Emit("conversation_type", "pick", pick);
        }
        foreach (var role in analysis.ParticipantRolePicks(_heardSpeaker ? [VelmaJson.SpeakerLabel] : []))
        {
            Emit("participant_role", "pick", role);
        }
        foreach (var detection in analysis.BehaviorDetections())
        {
            Emit("behavior_detection", "detection", detection);
        }
        if (config.ProduceTopics)
        {
            Emit("topics", "topics", new System.Text.Json.Nodes.JsonArray());
        }
        if (analysis.Summary is { } summary)
        {
            Emit("summary", "text", summary);
        }
        Emit(Done(durationMs));
    }

    public override void FinishUndetermined(long durationMs)
    {
        if (durationMs > 0)
        {
            OnSegment(new Segment(0, durationMs));
        }
        Finish(durationMs);
    }
}
