namespace Tollgate.Backends.Reference.Pcm;

/// <summary>
/// Interleaved PCM bytes in, mono samples out (the channels averaged). Bytes may be split anywhere: a partial
/// frame is kept until the rest of it arrives, so <see cref="Frames"/> counts whole frames only.
/// </summary>
internal sealed class PcmDecoder(PcmFormat format)
{
    private const int BlockFrames = 4096;
    private readonly byte[] _partial = new byte[format.FrameSize];
    private readonly float[] _mono = new float[BlockFrames];
    private int _partialCount;

    public PcmFormat Format => format;

    /// <summary>Whole frames decoded so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Whole milliseconds decoded so far (rounded down).</summary>
    public long DurationMs => format.FramesToMs(Frames);

    public void Decode(ReadOnlySpan<byte> bytes, IMonoSink sink)
    {
        var frameSize = _partial.Length;
        if (_partialCount > 0)
        {
            var take = Math.Min(frameSize - _partialCount, bytes.Length);
            bytes[..take].CopyTo(_partial.AsSpan(_partialCount));
            _partialCount += take;
            bytes = bytes[take..];
            if (_partialCount < frameSize)
            {
                return;
            }
            _partialCount = 0;
            _mono[0] = Mix(_partial);
            Frames++;
            sink.Write(_mono.AsSpan(0, 1));
        }
        var whole = bytes.Length / frameSize;
        for (var done = 0; done < whole;)
        {
            var count = Math.Min(BlockFrames, whole - done);
            for (var i = 0; i < count; i++)
            {
                _mono[i] = Mix(bytes.Slice((done + i) * frameSize, frameSize));
            }
            done += count;
            Frames += count;
            sink.Write(_mono.AsSpan(0, count));
        }
        var rest = bytes[(whole * frameSize)..];
        rest.CopyTo(_partial);
        _partialCount = rest.Length;
    }

    private float Mix(ReadOnlySpan<byte> frame)
    {
        var sample = format.Sample;
        var size = sample.BytesPerSample;
        var sum = 0f;
        for (var c = 0; c < format.Channels; c++)
        {
            sum += SampleCodec.Read(frame.Slice(c * size, size), sample);
        }
        return sum / format.Channels;
    }
}
