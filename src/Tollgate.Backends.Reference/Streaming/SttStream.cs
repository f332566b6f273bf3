using Tollgate.Backends.Reference.Contracts;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// velma-2-stt-streaming: an <c>utterance</c> per energy segment once its trailing silence is heard; with
/// <c>partial_results</c>, a <c>partial_utterance</c> when a segment opens and every second it grows; then <c>done</c>.
/// </summary>
internal sealed class SttStream(StreamSettings settings) : ModelStream(settings)
{
    private const long PartialEveryMs = 1000;
    private long _partialStart = -1;
    private long _partialEnd;

    public override SignalFeatures Features => SignalFeatures.Segments;

    public override void OnSegment(Segment segment) => Emit("utterance", "utterance", SttJson.Utterance(segment, Settings.Stt));

    public override void AfterAppend(SignalPipeline pipeline)
    {
        if (!Settings.Stt.PartialResults || pipeline.OpenSegment is not { } open)
        {
            return;
        }
        if (open.StartMs != _partialStart || open.EndMs - _partialEnd >= PartialEveryMs)
        {
            _partialStart = open.StartMs;
            _partialEnd = open.EndMs;
            Emit("partial_utterance", "partial_utterance", SttJson.PartialUtterance(open, Settings.Stt));
        }
    }

    public override void Finish(long durationMs) => Emit(Done(durationMs));

    public override void FinishUndetermined(long durationMs)
    {
        if (durationMs > 0)
        {
            OnSegment(new Segment(0, durationMs));
        }
        Emit(Done(durationMs));
    }
}
