namespace Tollgate.Backends.Reference.Signal;

/// <summary>
/// Cuts mono audio into 10 ms frames and marks each active when its RMS level is at least 10 dB above a
/// tracked noise floor, with the threshold kept between -45 and -25 dBFS. The floor starts at the first
/// frame's level, follows quieter frames at once and rises by at most 1 dB per second, so steady background
/// noise stops counting as activity while speech pauses keep the floor low.
/// </summary>
internal sealed class ActivityDetector(int sampleRate)
{
    public const int FrameMs = 10;
    private const double MinThresholdDb = -45;
    private const double MaxThresholdDb = -25;
    private const double AboveFloorDb = 10;
    private const double FloorRisePerFrameDb = 0.01;
    private const double SilenceDb = -100;

    private long _frame;
    private long _samples;
    private double _sumSquares;
    private int _count;
    private double? _floorDb;

    /// <summary>Appends the frames completed by <paramref name="samples"/> to <paramref name="frames"/>.</summary>
    public void Write(ReadOnlySpan<float> samples, List<ActivityFrame> frames)
    {
        var end = FrameEndSample(_frame);
        foreach (var s in samples)
        {
            _sumSquares += s * s;
            _count++;
            _samples++;
            if (_samples == end)
            {
                frames.Add(Close(_frame * FrameMs + FrameMs));
                end = FrameEndSample(_frame);
            }
        }
    }

    /// <summary>Closes a trailing partial frame, if any.</summary>
    public void Flush(List<ActivityFrame> frames)
    {
        if (_count > 0)
        {
            frames.Add(Close(_samples * 1000 / sampleRate));
        }
    }

    private long FrameEndSample(long frame) => Math.Max((frame + 1) * FrameMs * sampleRate / 1000, _samples + 1);

    private ActivityFrame Close(long endMs)
    {
        var rms = Math.Sqrt(_sumSquares / _count);
        var level = rms > 1e-5 ? 20 * Math.Log10(rms) : SilenceDb;
        var floor = _floorDb ?? level;
        var active = level >= Math.Clamp(floor + AboveFloorDb, MinThresholdDb, MaxThresholdDb);
        _floorDb = level < floor ? level : Math.Min(level, floor + FloorRisePerFrameDb);
        var frame = new ActivityFrame(_frame * FrameMs, Math.Max(endMs, _frame * FrameMs), level, active);
        _frame++;
        _sumSquares = 0;
        _count = 0;
        return frame;
    }
}
