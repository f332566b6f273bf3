using Tollgate.Backends.Reference.Contracts;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// velma-2-music-detection-streaming: a <c>frame</c> per completed 192 ms frame (heuristic scores, see
/// <see cref="MusicHeuristics"/>), the last partial frame at the end, then <c>done</c> with the summary. Audio the
/// reference cannot decode yields no frames and the label "unknown".
/// </summary>
internal sealed class MusicStream(StreamSettings settings) : ModelStream(settings)
{
    private readonly MusicTally _tally = new();

    public override SignalFeatures Features => SignalFeatures.MusicFrames;

    public override void OnMusicFrame(MusicFrame frame)
    {
        _tally.Add(frame);
        Emit("frame", "frame", DetectionJson.MusicFrame(frame));
    }

    public override void Finish(long durationMs)
    {
        var done = Done(durationMs);
        done["frame_count"] = _tally.FrameCount;
        done["music_pct"] = _tally.MusicPct;
        done["speech_pct"] = _tally.SpeechPct;
        done["primary_label"] = _tally.PrimaryLabel;
        Emit(done);
    }

    public override void FinishUndetermined(long durationMs) => Finish(durationMs);
}
