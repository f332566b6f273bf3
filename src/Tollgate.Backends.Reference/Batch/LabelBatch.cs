using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Contracts;

namespace Tollgate.Backends.Reference.Batch;

/// <summary>
/// The whole-file label answers. With no trained classifier the reference labels every window with the contracts'
/// non-committal values (emotion "Neutral", accent "Unknown") and the language as "Undetermined"/"und" at
/// confidence 0; only the window layout (consecutive 15 s windows, a shorter remainder omitted) follows the audio.
/// </summary>
internal static class LabelBatch
{
    public const long WindowMs = 15_000;

    public static JsonObject Emotion(long durationMs) => Labels("emotion", SttJson.NeutralEmotion, durationMs);

    public static JsonObject Accent(long durationMs) => Labels("accent", SttJson.UnknownAccent, durationMs);

    /// <summary>velma-2-language-detection-batch <c>LanguageDetectionResponse</c>.</summary>
    public static JsonObject Language(long durationMs) => new()
    {
        ["predicted_language"] = "Undetermined",
        ["predicted_language_code"] = Options.LanguageHint.Undetermined,
        ["confidence"] = 0.0,
        ["duration_ms"] = durationMs,
    };

    private static JsonObject Labels(string field, string label, long durationMs)
    {
        var series = new JsonArray();
        for (long start = 0; start + WindowMs <= durationMs; start += WindowMs)
        {
            series.Add(new JsonObject { ["start_ms"] = start, ["duration_ms"] = WindowMs, [field] = label });
        }
        return new JsonObject { [field] = label, ["time_series"] = series };
    }
}
