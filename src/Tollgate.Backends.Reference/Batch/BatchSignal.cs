using Tollgate.Audio;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Batch;

/// <summary>
/// What the reference can hear in a spooled batch file, decoded by <see cref="FileDecoder"/> (WAV, AIFF and AU with
/// PCM, float or G.711 samples; MP3, FLAC, Ogg Vorbis/Opus/FLAC and WebM Opus/Vorbis through their <see cref="CompressedDecoder"/>), so
/// the same audio gives the same analysis in any of these containers. Every item is clipped to the probed duration. Damaged compressed data sets <see cref="Undecodable"/>
/// (the request fails as "could not be processed"). Formats with no decoder here (AAC, MP4/M4A, WMA, AMR), and
/// variants a decoder does not handle, leave <see cref="Decoded"/> false: the file counts as one undetermined span of
/// its probed duration.
/// </summary>
internal sealed class BatchSignal : ISignalListener, IDecodeSink
{
    private SignalFeatures _features;
    private SignalPipeline? _pipeline;

    private BatchSignal(long durationMs) => DurationMs = durationMs;

    public bool Decoded { get; private set; }

    /// <summary>Why the compressed data could not be decoded (it is damaged), or null.</summary>
    public string? Undecodable { get; private set; }

    /// <summary>The probed duration, which every answer reports.</summary>
    public long DurationMs { get; }

    public List<Segment> Segments { get; } = [];

    public List<VoiceWindow> VoiceWindows { get; } = [];

    public List<MusicFrame> MusicFrames { get; } = [];

    public List<MusicWindow> MusicWindows { get; } = [];

    /// <summary>The segments found, or for undecoded audio the whole file as one span (none when it is empty).</summary>
    public IReadOnlyList<Segment> SegmentsOrWhole =>
        Decoded ? Segments : DurationMs > 0 ? [new Segment(0, DurationMs)] : [];

    public static BatchSignal Read(AudioInfo info, Stream file, SignalFeatures features)
    {
        var signal = new BatchSignal(info.DurationMs) { _features = features };
        if (features == SignalFeatures.None)
        {
            return signal;
        }
        switch (FileDecoder.Decode(info, file, signal, out var problem))
        {
            case FileDecodeResult.Decoded:
                signal._pipeline!.Finish();
                signal.Decoded = true;
                break;
            case FileDecodeResult.Undecodable:
                signal.Undecodable = problem;
                break;
        }
        return signal;
    }

    void IDecodeSink.Start(int sampleRate) => _pipeline = new SignalPipeline(sampleRate, _features, this);

    void IMonoSink.Write(ReadOnlySpan<float> samples) => _pipeline!.Write(samples);

    public void OnSegment(Segment segment)
    {
        if (segment.StartMs < DurationMs)
        {
            Segments.Add(segment with { EndMs = Math.Min(segment.EndMs, DurationMs) });
        }
    }

    public void OnVoiceWindow(VoiceWindow window)
    {
        if (window.StartMs < DurationMs)
        {
            VoiceWindows.Add(window with { EndMs = Math.Min(window.EndMs, DurationMs) });
        }
    }

    public void OnMusicFrame(MusicFrame frame)
    {
        if (frame.StartMs < DurationMs)
        {
            MusicFrames.Add(frame with { EndMs = Math.Min(frame.EndMs, DurationMs) });
        }
    }

    public void OnMusicWindow(MusicWindow window)
    {
        if (window.StartMs < DurationMs)
        {
            MusicWindows.Add(window with { EndMs = Math.Min(window.EndMs, DurationMs) });
        }
    }
}
