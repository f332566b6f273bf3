using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Contracts;

namespace Tollgate.Backends.Reference.Batch;

/// <summary>The frame- and window-shaped batch answers: synthetic voice, music and AI music (see <see cref="DetectionJson"/>).</summary>
internal static class DetectionBatch
{
    /// <summary>velma-2-synthetic-voice-detection-batch <c>DetectionAPIResponse</c>: 4 s frames over the whole file.</summary>
    public static JsonObject SyntheticVoice(BatchSignal signal, string? fileName) => new()
    {
        ["filename"] = FileName(fileName),
        ["frames"] = new JsonArray([.. signal.Decoded
            ? signal.VoiceWindows.Select(DetectionJson.VoiceFrame)
            : DetectionJson.UndeterminedVoiceFrames(signal.DurationMs)]),
        ["duration_ms"] = signal.DurationMs,
    };

    /// <summary>
    /// velma-2-music-detection-batch <c>MusicDetectionResponse</c>: 192 ms frames; for audio the reference cannot
    /// decode there are no frames and the label is "unknown", as the contract says when no frames could be produced.
    /// </summary>
    public static JsonObject Music(BatchSignal signal, string? fileName, double latencyMs)
    {
        var tally = new MusicTally();
        signal.MusicFrames.ForEach(tally.Add);
        return new JsonObject
        {
            ["filename"] = FileName(fileName) ?? "",
            ["duration_s"] = signal.DurationMs / 1000.0,
            ["primary_label"] = tally.PrimaryLabel,
            ["music_pct"] = tally.MusicPct,
            ["speech_pct"] = tally.SpeechPct,
            ["latency_ms"] = latencyMs,
            ["frames"] = new JsonArray([.. signal.MusicFrames.Select(DetectionJson.MusicFrame)]),
        };
    }

    /// <summary>velma-2-ai-music-detection-batch <c>AIMusicDetectionResponse</c>: 4 s windows, verdict "not-ai-music".</summary>
    public static JsonObject AiMusic(BatchSignal signal, string? fileName, double latencyMs)
    {
        var tally = new AiMusicTally();
        signal.MusicWindows.ForEach(tally.Add);
        var response = new JsonObject
        {
            ["filename"] = FileName(fileName) ?? "",
            ["duration_s"] = signal.DurationMs / 1000.0,
        };
        tally.WriteSummary(response);
        response["windows"] = new JsonArray([.. signal.MusicWindows.Select(w => DetectionJson.MusicWindow(w, batch: true))]);
        response["latency_ms"] = latencyMs;
        return response;
    }

    private static string? FileName(string? fileName) =>
        string.IsNullOrEmpty(fileName) ? null : Path.GetFileName(fileName.Replace('\\', '/'));
}
