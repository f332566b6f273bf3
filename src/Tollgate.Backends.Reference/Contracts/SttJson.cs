using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Options;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Contracts;

/// <summary>
/// Utterances of the STT and PII contracts, filled from energy segmentation. The reference has no recognizer: the
/// text is always "", the speaker is always 1 (no diarization model), the language is the hint or "und"; an enabled
/// emotion signal says "Neutral", an enabled accent signal "Unknown", an enabled deepfake signal 0.5 (undetermined;
/// null under 0.5 s, as the contracts do for audio too short to analyse).
/// </summary>
internal static class SttJson
{
    public const int Speaker = 1;
    public const string NeutralEmotion = "Neutral";
    public const string UnknownAccent = "Unknown";
    public const double UndeterminedScore = 0.5;
    private const long MinScoredMs = 500;

    /// <summary>The stt-batch <c>Utterance</c> / stt-streaming <c>StreamingUtterance</c>.</summary>
    public static JsonObject Utterance(Segment segment, SttOptions stt) => new()
    {
        ["utterance_uuid"] = Guid.NewGuid().ToString(),
        ["text"] = "",
        ["start_ms"] = segment.StartMs,
        ["duration_ms"] = segment.DurationMs,
        ["speaker"] = Speaker,
        ["language"] = stt.ReportedLanguage,
        ["emotion"] = Emotion(stt),
        ["accent"] = Accent(stt),
        ["deepfake_score"] = DeepfakeScore(stt, segment.DurationMs),
    };

    /// <summary>The stt-streaming <c>PartialUtterance</c> of a segment still growing.</summary>
    public static JsonObject PartialUtterance(Segment open, SttOptions stt) => new()
    {
        ["text"] = "",
        ["start_ms"] = open.StartMs,
        ["speaker"] = Speaker,
        ["emotion"] = Emotion(stt),
        ["accent"] = Accent(stt),
        ["deepfake_score"] = DeepfakeScore(stt, open.DurationMs),
    };

    /// <summary>The PII contracts' utterance (no signals): the text has nothing to redact.</summary>
    public static JsonObject PiiUtterance(Segment segment, SttOptions stt) => new()
    {
        ["utterance_uuid"] = Guid.NewGuid().ToString(),
        ["text"] = "",
        ["start_ms"] = segment.StartMs,
        ["duration_ms"] = segment.DurationMs,
        ["speaker"] = Speaker,
        ["language"] = stt.ReportedLanguage,
    };

    public static JsonNode? Emotion(SttOptions stt) => stt.EmotionSignal ? NeutralEmotion : null;

    public static JsonNode? Accent(SttOptions stt) => stt.AccentSignal ? UnknownAccent : null;

    public static JsonNode? DeepfakeScore(SttOptions stt, long durationMs) =>
        stt.DeepfakeSignal && durationMs >= MinScoredMs ? UndeterminedScore : null;
}
