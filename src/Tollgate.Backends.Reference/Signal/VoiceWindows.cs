namespace Tollgate.Backends.Reference.Signal;

/// <summary>Sums the active milliseconds of the activity timeline per consecutive 4 s window.</summary>
internal sealed class VoiceWindows
{
    public const long WindowMs = 4000;

    private long _window;
    private long _activeMs;
    private long _lastEndMs;

    public void Add(in ActivityFrame frame, List<VoiceWindow> closed)
    {
        while (frame.StartMs >= (_window + 1) * WindowMs)
        {
            closed.Add(new VoiceWindow(_window * WindowMs, (_window + 1) * WindowMs, _activeMs));
            _window++;
            _activeMs = 0;
        }
        if (frame.Active)
        {
            _activeMs += frame.EndMs - frame.StartMs;
        }
        _lastEndMs = frame.EndMs;
    }

    /// <summary>Closes the last (possibly partial) window at the end of the audio.</summary>
    public void Flush(long endMs, List<VoiceWindow> closed)
    {
        endMs = Math.Max(endMs, _lastEndMs);
        var start = _window * WindowMs;
        if (endMs > start)
        {
            closed.Add(new VoiceWindow(start, Math.Min(endMs, start + WindowMs), _activeMs));
        }
    }
}
