using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Contracts;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// velma-2-pii-phi-redaction-streaming: an <c>utterance</c> per energy segment (empty text: with no recognizer there
/// is nothing to redact) followed by its redacted audio, then <c>done</c> with the trailing audio.
/// <para>
/// Each binary frame is the clip as MP3, as the contract says (mono, at the decoded audio's rate, encoded by libmp3lame
/// with its Info frame, so it decodes to exactly the clip's length), unchanged since nothing is silenced. A clip covers the audio from the end of the previous one to
/// the end of its utterance, at most the last <see cref="ClipBuffer.MaxClipMs"/> (older silence is not kept), and
/// <c>redacted_audio</c> states exactly what it covers. Audio the reference cannot decode (AAC, MP4, WMA, AMR) yields
/// one utterance over the whole duration with <c>redacted_audio</c> null, as there is no decoded audio to return.
/// The server refuses the channel when libmp3lame is missing (<see cref="Codecs.Mp3.Mp3Encoder.Availability"/>).
/// </para>
/// </summary>
internal sealed class PiiStream(StreamSettings settings) : ModelStream(settings)
{
    private ClipBuffer? _clips;
    private long _emittedToMs;

    public override SignalFeatures Features => SignalFeatures.Segments;

    public override IMonoSink? OnPcmStart(int sampleRate) => _clips = new ClipBuffer(sampleRate);

    public override void OnSegment(Segment segment)
    {
        var clip = Clip(segment.EndMs);
        Emit(new JsonObject
        {
            ["type"] = "utterance",
            ["utterance"] = SttJson.PiiUtterance(segment, Settings.Stt),
            ["redacted_audio"] = clip.Info,
        });
        if (clip.Mp3 is { } mp3)
        {
            EmitBinary(mp3);
        }
    }

    public override void Finish(long durationMs)
    {
        var trailing = durationMs > _emittedToMs ? Clip(durationMs) : (null, null);
        var done = Done(durationMs);
        done["trailing_redacted_audio"] = trailing.Info;
        Emit(done);
        if (trailing.Mp3 is { } mp3)
        {
            EmitBinary(mp3);
        }
    }

    public override void FinishUndetermined(long durationMs)
    {
        if (durationMs > 0)
        {
            Emit(new JsonObject
            {
                ["type"] = "utterance",
                ["utterance"] = SttJson.PiiUtterance(new Segment(0, durationMs), Settings.Stt),
                ["redacted_audio"] = null,
            });
        }
        var done = Done(durationMs);
        done["trailing_redacted_audio"] = null;
        Emit(done);
    }

    private (JsonObject? Info, byte[]? Mp3) Clip(long endMs)
    {
        if (_clips is null || endMs <= _emittedToMs)
        {
            return (null, null);
        }
        var startMs = Math.Max(_emittedToMs, _clips.OldestMs);
        _emittedToMs = endMs;
        var info = new JsonObject { ["start_ms"] = startMs, ["duration_ms"] = endMs - startMs };
        return (info, _clips.Mp3(startMs, endMs));
    }
}
