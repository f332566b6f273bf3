namespace Tollgate.Backends.Reference.Signal;

/// <summary>
/// Groups active 10 ms frames into segments: a segment ends once 300 ms pass without activity, segments
/// shorter than 100 ms (clicks) are dropped, and a segment is split after 30 s so results keep flowing
/// during long continuous sound.
/// </summary>
internal sealed class EnergySegmenter
{
    public const long HangoverMs = 300;
    public const long MinSegmentMs = 100;
    public const long MaxSegmentMs = 30_000;

    private long? _start;
    private long _lastActiveEnd;

    /// <summary>The segment still growing (start to the end of its last active frame), if any.</summary>
    public Segment? Open => _start is { } start ? new Segment(start, _lastActiveEnd) : null;

    public void Add(in ActivityFrame frame, List<Segment> closed)
    {
        if (frame.Active)
        {
            _start ??= frame.StartMs;
            _lastActiveEnd = frame.EndMs;
            if (_lastActiveEnd - _start >= MaxSegmentMs)
            {
                Close(closed);
            }
        }
        else if (_start is not null && frame.EndMs - _lastActiveEnd >= HangoverMs)
        {
            Close(closed);
        }
    }

    /// <summary>Ends the open segment at the end of the audio.</summary>
    public void Flush(List<Segment> closed)
    {
        if (_start is not null)
        {
            Close(closed);
        }
    }

    private void Close(List<Segment> closed)
    {
        var segment = new Segment(_start!.Value, _lastActiveEnd);
        if (segment.DurationMs >= MinSegmentMs)
        {
            closed.Add(segment);
        }
        _start = null;
    }
}
