namespace Tollgate.Backends.Reference.Signal;

/// <summary>A stretch of sound found by energy segmentation, in milliseconds from the start of the audio.</summary>
internal readonly record struct Segment(long StartMs, long EndMs)
{
    public long DurationMs => EndMs - StartMs;
}

/// <summary>One 10 ms analysis frame: its level and whether it rose above the adaptive threshold.</summary>
internal readonly record struct ActivityFrame(long StartMs, long EndMs, double LevelDb, bool Active);

/// <summary>A 4 s window of the voice-activity timeline: how many of its milliseconds carried sound.</summary>
internal readonly record struct VoiceWindow(long StartMs, long EndMs, long ActiveMs);

/// <summary>
/// One ~192 ms frame scored by the music/speech heuristics (<see cref="MusicHeuristics"/>): not a trained
/// classifier, so the probabilities are heuristic scores in [0, 1].
/// </summary>
internal readonly record struct MusicFrame(long StartMs, long EndMs, double MusicProb, double SpeechProb)
{
    public bool IsMusic => MusicProb >= 0.5;

    public bool IsSpeech => SpeechProb >= 0.5;
}

/// <summary>A 4 s window summarising its music frames: the share of its time that was vocal, instrumental or neither.</summary>
internal readonly record struct MusicWindow(long StartMs, long EndMs, double VocalPct, double InstrumentalPct, double SilencePct);
