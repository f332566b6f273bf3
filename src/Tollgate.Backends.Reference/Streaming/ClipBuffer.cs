using Tollgate.Backends.Reference.Batch;
using Tollgate.Backends.Reference.Codecs.Mp3;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// The last <see cref="MaxClipMs"/> of decoded audio as 16-bit mono, in a ring that grows up to that length and then
/// wraps (memory bounded whatever the stream's length), from which the PII channel cuts its redacted-audio clips.
/// </summary>
internal sealed class ClipBuffer(int sampleRate) : IMonoSink
{
    /// <summary>Longest clip kept: a 30 s utterance (the segmenter's maximum) and 30 s of the silence before it.</summary>
    public const long MaxClipMs = 60_000;

    private readonly long _capacity = MaxClipMs * sampleRate / 1000;
    private short[] _ring = new short[Math.Max(1, sampleRate)];
    private long _written;

    /// <summary>The earliest millisecond still held.</summary>
    public long OldestMs => (Math.Max(0, _written - _ring.Length) * 1000 + sampleRate - 1) / sampleRate;

    public void Write(ReadOnlySpan<float> samples)
    {
        if (_written + samples.Length > _ring.Length && _ring.Length < _capacity)
        {
            // Not wrapped yet (the ring only wraps at full capacity): grow, keeping the order.
            var grown = new short[Math.Min(_capacity, Math.Max(_ring.Length * 2L, _written + samples.Length))];
            _ring.AsSpan(0, (int)_written).CopyTo(grown);
            _ring = grown;
        }
        foreach (var s in samples)
        {
            _ring[_written++ % _ring.Length] = RedactedAudio.ToInt16(s);
        }
    }

    /// <summary>An MP3 of [<paramref name="startMs"/>, <paramref name="endMs"/>); the caller keeps <paramref name="startMs"/> ≥ <see cref="OldestMs"/>.</summary>
    public byte[] Mp3(long startMs, long endMs) => Mp3Encoder.EncodeClip(Samples(startMs, endMs), sampleRate);

    /// <summary>The 16-bit samples of [<paramref name="startMs"/>, <paramref name="endMs"/>).</summary>
    public short[] Samples(long startMs, long endMs)
    {
        var first = startMs * sampleRate / 1000;
        var last = Math.Min(_written, endMs * sampleRate / 1000);
        var samples = new short[Math.Max(0, last - first)];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = _ring[(first + i) % _ring.Length];
        }
        return samples;
    }
}
