using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// One channel's messages: turns what the signal pipeline finds into the contract's events, and writes the final
/// messages ending with <c>done</c>. Events are added to the list of the <c>Append</c>/<c>Complete</c> call in progress.
/// </summary>
internal abstract class ModelStream(StreamSettings settings) : ISignalListener
{
    private List<StreamEvent>? _events;

    protected StreamSettings Settings => settings;

    /// <summary>The analyses this channel needs.</summary>
    public abstract SignalFeatures Features { get; }

    public static ModelStream For(StreamSettings settings) => settings.Channel switch
    {
        ReferenceModel.SttStreaming => new SttStream(settings),
        ReferenceModel.SttEnglishV2Streaming => new EnglishV2Stream(settings),
        ReferenceModel.PiiStreaming => new PiiStream(settings),
        ReferenceModel.VelmaStreaming => new VelmaStream(settings),
        ReferenceModel.SyntheticVoiceStreaming => new SyntheticVoiceStream(settings),
        ReferenceModel.MusicStreaming => new MusicStream(settings),
        ReferenceModel.AiMusicStreaming => new AiMusicStream(settings),
        _ => throw new NotSupportedException($"{settings.Model.Name} is not a streaming model."),
    };

    /// <summary>The decoded audio starts: a channel that needs the samples themselves returns a sink for them.</summary>
    public virtual IMonoSink? OnPcmStart(int sampleRate) => null;

    /// <summary>After each chunk of decoded audio: interim results.</summary>
    public virtual void AfterAppend(SignalPipeline pipeline)
    {
    }

    /// <summary>The decoded audio ended after <paramref name="durationMs"/> (the pipeline is finished): final messages and <c>done</c>.</summary>
    public abstract void Finish(long durationMs);

    /// <summary>Audio the reference cannot decode, of <paramref name="durationMs"/>: one undetermined span, then <c>done</c>.</summary>
    public abstract void FinishUndetermined(long durationMs);

    public virtual void OnSegment(Segment segment)
    {
    }

    public virtual void OnVoiceWindow(VoiceWindow window)
    {
    }

    public virtual void OnMusicFrame(MusicFrame frame)
    {
    }

    public virtual void OnMusicWindow(MusicWindow window)
    {
    }

    internal void Begin(List<StreamEvent> events) => _events = events;

    internal void End() => _events = null;

    protected void Emit(JsonObject message) => Events.Add(new StreamEvent(message, ReadOnlyMemory<byte>.Empty));

    protected void Emit(string type, string field, JsonNode? payload) => Emit(new JsonObject { ["type"] = type, [field] = payload });

    protected void EmitBinary(ReadOnlyMemory<byte> bytes) => Events.Add(new StreamEvent(null, bytes));

    protected static JsonObject Done(long durationMs) => new() { ["type"] = "done", ["duration_ms"] = durationMs };

    private List<StreamEvent> Events => _events ?? throw new InvalidOperationException("Messages are produced only during Append or Complete.");
}
