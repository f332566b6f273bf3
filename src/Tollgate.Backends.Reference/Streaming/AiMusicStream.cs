using Tollgate.Backends.Reference.Contracts;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// velma-2-ai-music-detection-streaming: a <c>window</c> per completed 4 s window (vocal/instrumental/silence shares
/// of the heuristic music frames; never an AI verdict), the last partial window at the end, then <c>done</c> with the
/// clip-level averages and "not-ai-music". Audio the reference cannot decode yields no windows.
/// </summary>
internal sealed class AiMusicStream(StreamSettings settings) : ModelStream(settings)
{
    private readonly AiMusicTally _tally = new();

    public override SignalFeatures Features => SignalFeatures.MusicWindows;

    public override void OnMusicWindow(MusicWindow window)
    {
        _tally.Add(window);
        Emit("window", "window", DetectionJson.MusicWindow(window, batch: false));
    }

    public override void Finish(long durationMs)
    {
        var done = Done(durationMs);
        done["window_count"] = _tally.WindowCount;
        Emit(_tally.WriteSummary(done));
    }

    public override void FinishUndetermined(long durationMs) => Finish(durationMs);
}
