using Tollgate.Audio;

namespace Tollgate.Backends.Reference.Pcm;

/// <summary>Interleaved, uncompressed samples: one sample layout, a sample rate and a channel count.</summary>
internal readonly record struct PcmFormat(RawSampleFormat Sample, int SampleRate, int Channels)
{
    /// <summary>Bytes of one frame (one sample for every channel).</summary>
    public int FrameSize => Sample.FrameSize(Channels);

    /// <summary>Whole milliseconds in <paramref name="frames"/> frames (rounded down).</summary>
    public long FramesToMs(long frames) => SampleRate <= 0 ? 0 : frames * 1000 / SampleRate;
}
