namespace Tollgate.Backends.Reference.Signal;

/// <summary>
/// Folds music frames into consecutive 4 s windows: the share of each window's analysed time whose frame
/// scored as speech (vocal), as music (instrumental), or as neither (silence), in percent with one decimal.
/// </summary>
internal sealed class MusicWindows
{
    public const long WindowMs = 4000;

    private long _window;
    private long _vocalMs;
    private long _instrumentalMs;
    private long _silenceMs;
    private long _coveredMs;

    public void Add(in MusicFrame frame, List<MusicWindow> closed)
    {
        var start = frame.StartMs;
        while (start < frame.EndMs)
        {
            var windowEnd = (_window + 1) * WindowMs;
            var end = Math.Min(frame.EndMs, windowEnd);
            var span = end - start;
            _coveredMs += span;
            if (frame.IsSpeech)
            {
                _vocalMs += span;
            }
            if (frame.IsMusic)
            {
                _instrumentalMs += span;
            }
            if (!frame.IsSpeech && !frame.IsMusic)
            {
                _silenceMs += span;
            }
            start = end;
            if (end == windowEnd)
            {
                closed.Add(Close(windowEnd));
            }
        }
    }

    /// <summary>Closes the last partial window, if it holds any analysed time.</summary>
    public void Flush(List<MusicWindow> closed)
    {
        if (_coveredMs > 0)
        {
            closed.Add(Close(_window * WindowMs + _coveredMs));
        }
    }

    private MusicWindow Close(long endMs)
    {
        var window = new MusicWindow(_window * WindowMs, endMs, Pct(_vocalMs), Pct(_instrumentalMs), Pct(_silenceMs));
        _window++;
        _vocalMs = _instrumentalMs = _silenceMs = _coveredMs = 0;
        return window;
    }

    private double Pct(long ms) => _coveredMs == 0 ? 0 : Math.Round(100.0 * ms / _coveredMs, 1);
}
