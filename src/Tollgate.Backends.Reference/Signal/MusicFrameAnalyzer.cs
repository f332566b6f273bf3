namespace Tollgate.Backends.Reference.Signal;

/// <summary>Cuts mono audio into consecutive 192 ms frames and scores each with <see cref="MusicHeuristics"/>.</summary>
internal sealed class MusicFrameAnalyzer
{
    public const int FrameMs = 192;

    private readonly int _sampleRate;
    private readonly float[] _frame;
    private readonly SpectrumScratch _scratch = new();
    private int _count;
    private long _index;
    private long _samples;

    public MusicFrameAnalyzer(int sampleRate)
    {
        _sampleRate = sampleRate;
        _frame = new float[(int)((long)FrameMs * sampleRate / 1000) + 2];
    }

    public void Write(ReadOnlySpan<float> samples, List<MusicFrame> frames)
    {
        while (samples.Length > 0)
        {
            var end = (_index + 1) * FrameMs * _sampleRate / 1000;
            var take = (int)Math.Min(samples.Length, Math.Max(1, end - _samples));
            samples[..take].CopyTo(_frame.AsSpan(_count));
            _count += take;
            _samples += take;
            samples = samples[take..];
            if (_samples >= end)
            {
                frames.Add(Close((_index + 1) * FrameMs));
            }
        }
    }

    /// <summary>Scores a trailing partial frame, if any, ending at the end of the audio.</summary>
    public void Flush(List<MusicFrame> frames)
    {
        var endMs = _samples * 1000 / _sampleRate;
        if (_count > 0 && endMs > _index * FrameMs)
        {
            frames.Add(Close(endMs));
        }
    }

    private MusicFrame Close(long endMs)
    {
        var (music, speech) = MusicHeuristics.Score(_frame.AsSpan(0, _count), _sampleRate, _scratch);
        var frame = new MusicFrame(_index * FrameMs, endMs, music, speech);
        _index++;
        _count = 0;
        return frame;
    }
}
