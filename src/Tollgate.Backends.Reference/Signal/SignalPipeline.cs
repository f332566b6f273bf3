using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Signal;

/// <summary>
/// Runs the requested analyses over decoded mono audio as it arrives and tells the listener about each
/// segment, window or frame as soon as it is final; <see cref="Finish"/> closes whatever is still open at
/// the end of the audio. Memory is bounded by one 192 ms frame whatever the length of the audio.
/// </summary>
internal sealed class SignalPipeline : IMonoSink
{
    private readonly int _sampleRate;
    private readonly SignalFeatures _features;
    private readonly ISignalListener _listener;
    private readonly ActivityDetector? _activity;
    private readonly EnergySegmenter? _segmenter;
    private readonly VoiceWindows? _voiceWindows;
    private readonly MusicFrameAnalyzer? _music;
    private readonly MusicWindows? _musicWindows;
    private readonly List<ActivityFrame> _activityFrames = [];
    private readonly List<Segment> _segments = [];
    private readonly List<VoiceWindow> _voice = [];
    private readonly List<MusicFrame> _musicFrames = [];
    private readonly List<MusicWindow> _musicWindowList = [];

    public SignalPipeline(int sampleRate, SignalFeatures features, ISignalListener listener)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        _sampleRate = sampleRate;
        _features = features;
        _listener = listener;
        if ((features & (SignalFeatures.Segments | SignalFeatures.VoiceWindows)) != 0)
        {
            _activity = new ActivityDetector(sampleRate);
            _segmenter = features.HasFlag(SignalFeatures.Segments) ? new EnergySegmenter() : null;
            _voiceWindows = features.HasFlag(SignalFeatures.VoiceWindows) ? new VoiceWindows() : null;
        }
        if ((features & (SignalFeatures.MusicFrames | SignalFeatures.MusicWindows)) != 0)
        {
            _music = new MusicFrameAnalyzer(sampleRate);
            _musicWindows = features.HasFlag(SignalFeatures.MusicWindows) ? new MusicWindows() : null;
        }
    }

    /// <summary>Samples analysed so far.</summary>
    public long Samples { get; private set; }

    /// <summary>Whole milliseconds analysed so far.</summary>
    public long DurationMs => Samples * 1000 / _sampleRate;

    /// <summary>The segment still growing, if any (for interim results).</summary>
    public Segment? OpenSegment => _segmenter?.Open;

    public void Write(ReadOnlySpan<float> samples)
    {
        Samples += samples.Length;
        _activity?.Write(samples, _activityFrames);
        _music?.Write(samples, _musicFrames);
        Dispatch();
    }

    /// <summary>Closes the open segment, windows and frames at the end of the audio.</summary>
    public void Finish()
    {
        _activity?.Flush(_activityFrames);
        _music?.Flush(_musicFrames);
        Dispatch();
        _segmenter?.Flush(_segments);
        _voiceWindows?.Flush(DurationMs, _voice);
        _musicWindows?.Flush(_musicWindowList);
        Dispatch();
    }

    private void Dispatch()
    {
        foreach (var frame in _activityFrames)
        {
            _segmenter?.Add(frame, _segments);
            _voiceWindows?.Add(frame, _voice);
        }
        _activityFrames.Clear();
        foreach (var frame in _musicFrames)
        {
            _musicWindows?.Add(frame, _musicWindowList);
            if (_features.HasFlag(SignalFeatures.MusicFrames))
            {
                _listener.OnMusicFrame(frame);
            }
        }
        _musicFrames.Clear();
        foreach (var segment in _segments)
        {
            _listener.OnSegment(segment);
        }
        _segments.Clear();
        foreach (var window in _voice)
        {
            _listener.OnVoiceWindow(window);
        }
        _voice.Clear();
        foreach (var window in _musicWindowList)
        {
            _listener.OnMusicWindow(window);
        }
        _musicWindowList.Clear();
    }
}
