using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// velma-2-stt-streaming-english-v2: a <c>partial_utterance</c> (the transcript so far: empty, as there is no
/// recognizer) every 1.5 s of audio received, then one final <c>utterance</c> and <c>done</c>.
/// </summary>
internal sealed class EnglishV2Stream(StreamSettings settings) : ModelStream(settings)
{
    private const long PartialEveryMs = 1500;
    private long _nextPartialMs = PartialEveryMs;

    public override SignalFeatures Features => SignalFeatures.None;

    public override void AfterAppend(SignalPipeline pipeline)
    {
        var heard = pipeline.DurationMs;
        if (heard >= _nextPartialMs)
        {
            _nextPartialMs = (heard / PartialEveryMs + 1) * PartialEveryMs;
            Emit("partial_utterance", "partial_utterance", new JsonObject { ["text"] = "", ["is_final"] = false });
        }
    }

    public override void Finish(long durationMs)
    {
        Emit("utterance", "utterance", new JsonObject { ["text"] = "", ["is_final"] = true });
        Emit(Done(durationMs));
    }

    public override void FinishUndetermined(long durationMs) => Finish(durationMs);
}
