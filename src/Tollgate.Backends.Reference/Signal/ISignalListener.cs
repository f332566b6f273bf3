namespace Tollgate.Backends.Reference.Signal;

/// <summary>Which analyses a <see cref="SignalPipeline"/> runs.</summary>
[Flags]
internal enum SignalFeatures
{
    None = 0,
    /// <summary>Energy segmentation into utterance-like segments.</summary>
    Segments = 1,
    /// <summary>4 s voice-activity windows.</summary>
    VoiceWindows = 2,
    /// <summary>~192 ms music/speech frames.</summary>
    MusicFrames = 4,
    /// <summary>4 s windows of the music frames.</summary>
    MusicWindows = 8,
}

/// <summary>Receives what a <see cref="SignalPipeline"/> finds, as soon as each item is final.</summary>
internal interface ISignalListener
{
    void OnSegment(Segment segment)
    {
    }

    void OnVoiceWindow(VoiceWindow window)
    {
    }

    void OnMusicFrame(MusicFrame frame)
    {
    }

    void OnMusicWindow(MusicWindow window)
    {
    }
}
