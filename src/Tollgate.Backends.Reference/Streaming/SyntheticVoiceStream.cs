using Tollgate.Backends.Reference.Contracts;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// velma-2-synthetic-voice-detection-streaming: a <c>frame</c> per 4 s window as it completes ("no-content" when
/// silent, else "non-synthetic" at 0.5: undetermined), the last partial window at the end, then <c>done</c> with the count.
/// </summary>
internal sealed class SyntheticVoiceStream(StreamSettings settings) : ModelStream(settings)
{
    private int _frames;

    public override SignalFeatures Features => SignalFeatures.VoiceWindows;

    public override void OnVoiceWindow(VoiceWindow window)
    {
        _frames++;
        Emit("frame", "frame", DetectionJson.VoiceFrame(window));
    }

    public override void Finish(long durationMs)
    {
        var done = Done(durationMs);
        done["frame_count"] = _frames;
        Emit(done);
    }

    public override void FinishUndetermined(long durationMs)
    {
        foreach (var frame in DetectionJson.UndeterminedVoiceFrames(durationMs))
        {
            _frames++;
            Emit("frame", "frame", frame);
        }
        Finish(durationMs);
    }
}
