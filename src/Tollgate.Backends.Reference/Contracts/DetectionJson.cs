using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Contracts;

/// <summary>
/// Frames and windows of the synthetic-voice, music and AI-music contracts. The reference has no trained detector:
/// a synthetic-voice frame with sound is "non-synthetic" at confidence 0.5 (undetermined) and a silent one
/// "no-content" at 1.0; music frames carry the <see cref="MusicHeuristics"/> scores; AI-music windows report the
/// vocal/instrumental/silence shares of those scores and never an AI verdict (0 / "not-ai-music").
/// </summary>
internal static class DetectionJson
{
    /// <summary>Sound shorter than this in a 4 s window leaves it "no-content".</summary>
    public const long MinContentMs = 100;
    public const double UndeterminedConfidence = 0.5;

    public static JsonObject VoiceFrame(VoiceWindow window) => VoiceFrame(window.StartMs, window.EndMs, window.ActiveMs >= MinContentMs);

    /// <param name="startMs">Frame start.</param>
    /// <param name="endMs">Frame end.</param>
    /// <param name="hasContent">Whether the frame carries sound (or, for audio the reference cannot decode, may).</param>
    public static JsonObject VoiceFrame(long startMs, long endMs, bool hasContent) => new()
    {
        ["start_time_ms"] = startMs,
        ["end_time_ms"] = endMs,
        ["verdict"] = hasContent ? "non-synthetic" : "no-content",
        ["confidence"] = hasContent ? UndeterminedConfidence : 1.0,
    };

    /// <summary>4 s frames over audio the reference cannot decode: each undetermined ("non-synthetic", 0.5).</summary>
    public static IEnumerable<JsonObject> UndeterminedVoiceFrames(long durationMs)
    {
        for (long start = 0; start < durationMs; start += VoiceWindows.WindowMs)
        {
            yield return VoiceFrame(start, Math.Min(durationMs, start + VoiceWindows.WindowMs), hasContent: true);
        }
    }

    public static JsonObject MusicFrame(MusicFrame frame) => new()
    {
        ["start_time_ms"] = frame.StartMs,
        ["end_time_ms"] = frame.EndMs,
        ["music_prob"] = frame.MusicProb,
        ["speech_prob"] = frame.SpeechProb,
    };

    /// <summary>An AI-music window; the batch shape adds the per-window instrumental AI fields.</summary>
    public static JsonObject MusicWindow(MusicWindow window, bool batch)
    {
        var json = new JsonObject
        {
            ["start_time_ms"] = window.StartMs,
            ["end_time_ms"] = window.EndMs,
            ["vocal_percentage"] = window.VocalPct,
            ["vocal_ai_percentage"] = 0.0,
            ["vocal_ai_confidence"] = 0.0,
            ["instrumental_percentage"] = window.InstrumentalPct,
        };
        if (batch)
        {
            json["instrumental_ai_percentage"] = 0.0;
            json["instrumental_ai_confidence"] = 0.0;
        }
        json["silence_percentage"] = window.SilencePct;
        return json;
    }
}
