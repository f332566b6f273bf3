using System.Buffers;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Backends.Reference.Containers;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Batch;

/// <summary>
/// What the reference can hear in a spooled batch file, read in 64 KB chunks (never the whole file in memory). WAV,
/// AIFF and AU files with PCM, float or G.711 samples are decoded directly; MP3, FLAC and Ogg Vorbis/Opus/FLAC go
/// through their <see cref="CompressedDecoder"/>, so the same audio gives the same analysis in any of these
/// containers. Every item is clipped to the probed duration. Damaged compressed data sets <see cref="Undecodable"/>
/// (the request fails as "could not be processed"). Formats with no decoder here (AAC, MP4/M4A, WebM, WMA, AMR), and
/// variants a decoder does not handle, leave <see cref="Decoded"/> false: the file counts as one undetermined span of
/// its probed duration.
/// </summary>
internal sealed class BatchSignal : ISignalListener, IDecodeSink
{
    private SignalFeatures _features;
    private SignalPipeline? _pipeline;

    private const int ChunkBytes = 64 * 1024;

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
        var signal = new BatchSignal(info.DurationMs);
        var container = info.Container switch
        {
            AudioContainer.Wav => SniffedContainer.Wav,
            AudioContainer.Aiff => SniffedContainer.Aiff,
            AudioContainer.Au => SniffedContainer.Au,
            _ => SniffedContainer.Unknown,
        };
        if (features == SignalFeatures.None)
        {
            return signal;
        }
        if (HeaderReader.For(container) is { } header)
        {
            signal.Decode(file, header, features);
        }
        else if (CompressedDecoder.For(info.Container, info.Codec) is { } decoder)
        {
            signal.Decode(file, decoder, features);
        }
        return signal;
    }

    private void Decode(Stream file, CompressedDecoder decoder, SignalFeatures features)
    {
        _features = features;
        file.Seek(0, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while (decoder.Healthy && (read = file.Read(buffer, 0, ChunkBytes)) > 0)
            {
                decoder.Feed(buffer.AsSpan(0, read), this);
            }
            decoder.Finish(this);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            (decoder as IDisposable)?.Dispose();
        }
        switch (decoder.Status)
        {
            case DecoderStatus.Decoding:
                _pipeline!.Finish();
                Decoded = true;
                break;
            case DecoderStatus.Corrupt:
                Undecodable = decoder.Problem;
                break;
        }
    }

    void IDecodeSink.Start(int sampleRate) => _pipeline = new SignalPipeline(sampleRate, _features, this);

    void IMonoSink.Write(ReadOnlySpan<float> samples) => _pipeline!.Write(samples);

    private void Decode(Stream file, HeaderReader header, SignalFeatures features)
    {
        file.Seek(0, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            PcmDecoder? decoder = null;
            SignalPipeline? pipeline = null;
            long remaining = 0;
            int read;
            while (remaining >= 0 && (read = file.Read(buffer, 0, ChunkBytes)) > 0)
            {
                var span = buffer.AsSpan(0, read);
                if (decoder is null)
                {
                    var used = header.Feed(span);
                    if (header.Status == HeaderStatus.NeedMore)
                    {
                        continue;
                    }
                    if (header.Status != HeaderStatus.Ready)
                    {
                        return;
                    }
                    decoder = new PcmDecoder(header.Header!.Format);
                    pipeline = new SignalPipeline(decoder.Format.SampleRate, features, this);
                    remaining = header.Header.DataBytes ?? long.MaxValue;
                    span = span[used..];
                }
                var take = (int)Math.Min(span.Length, remaining);
                decoder.Decode(span[..take], pipeline!);
                remaining = remaining - take == 0 ? -1 : remaining - take;
            }
            if (pipeline is not null)
            {
                pipeline.Finish();
                Decoded = true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

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
