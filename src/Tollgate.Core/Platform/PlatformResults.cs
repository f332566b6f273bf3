using System.Text.Json.Nodes;

namespace Tollgate.Platform;

/// <summary>
/// A file's result in the reconstructed contract's <c>FileAnalysis</c> shape, assembled from the models' own answers:
/// the transcription model's <c>text</c>, <c>duration_ms</c> and utterances, each utterance's <c>emotion</c> from the
/// emotion model's window that holds its start (its whole-file label otherwise), <c>demographics</c> from the accent
/// model and <c>deepfake</c> from the synthetic-voice model. Nothing is added that a model did not say.
/// </summary>
internal static class PlatformResults
{
    public static JsonObject Compose(PlatformFlags flags, JsonObject stt, JsonObject? emotion, JsonObject? accent, JsonObject? deepfake)
    {
        var utterances = new JsonArray();
        var speakers = new SortedSet<int>();
        if (stt["utterances"] is JsonArray source)
        {
            foreach (var node in source.OfType<JsonObject>())
            {
                var start = Long(node["start_ms"]);
                var speaker = (int)Long(node["speaker"], 1);
                speakers.Add(speaker);
                utterances.Add(new JsonObject
                {
                    ["utterance_uuid"] = node["utterance_uuid"]?.DeepClone(),
                    ["text"] = node["text"]?.DeepClone() ?? "",
                    ["start_ms"] = start,
                    ["duration_ms"] = Long(node["duration_ms"]),
                    ["speaker"] = speaker,
                    ["language"] = node["language"]?.DeepClone(),
                    ["emotion"] = flags.HasFlag(PlatformFlags.EmotionAnnotation) && emotion is not null ? EmotionAt(emotion, start) : null,
                });
            }
        }
        var result = new JsonObject
        {
            ["text"] = stt["text"]?.DeepClone() ?? "",
            ["duration_ms"] = Long(stt["duration_ms"]),
            ["utterances"] = utterances,
        };
        if (flags.HasFlag(PlatformFlags.EmotionAnnotation) && emotion is not null)
        {
            result["emotion"] = emotion.DeepClone();
        }
        result["demographics"] = flags.HasFlag(PlatformFlags.Demographics) && accent is not null ? Demographics(accent, speakers) : null;
        result["deepfake"] = flags.HasFlag(PlatformFlags.DeepfakeDetection) && deepfake is not null ? Deepfake(deepfake) : null;
        return result;
    }

    private static JsonNode? EmotionAt(JsonObject emotion, long startMs)
    {
        if (emotion["time_series"] is JsonArray series)
        {
            foreach (var window in series.OfType<JsonObject>())
            {
                var from = Long(window["start_ms"]);
                if (startMs >= from && startMs < from + Long(window["duration_ms"]))
                {
                    return window["emotion"]?.DeepClone();
                }
            }
        }
        return emotion["emotion"]?.DeepClone();
    }

    private static JsonObject Demographics(JsonObject accent, SortedSet<int> speakers)
    {
        if (speakers.Count == 0)
        {
            speakers.Add(1);
        }
        var label = accent["accent"]?.DeepClone();
        return new JsonObject
        {
            ["speakers"] = new JsonArray([.. speakers.Select(s => (JsonNode)new JsonObject
            {
                ["speaker"] = s,
                ["estimates"] = new JsonObject { ["accent"] = label?.DeepClone() },
            })]),
            ["note"] = "Estimates come from the accent model (velma-2-accent-batch): accent is the only attribute estimated.",
        };
    }

    /// <summary>The synthetic-voice frames with a score: the mean probability of synthetic speech over the frames with content (null when none has).</summary>
    private static JsonObject Deepfake(JsonObject detection)
    {
        double sum = 0;
        var count = 0;
        if (detection["frames"] is JsonArray frames)
        {
            foreach (var frame in frames.OfType<JsonObject>())
            {
                var verdict = frame["verdict"]?.GetValue<string>();
                var confidence = frame["confidence"]?.GetValue<double>() ?? 0;
                if (verdict == "synthetic")
                {
                    sum += confidence;
                    count++;
                }
                else if (verdict == "non-synthetic")
                {
                    sum += 1 - confidence;
                    count++;
                }
            }
        }
        return new JsonObject
        {
            ["score"] = count == 0 ? null : Math.Round(sum / count, 4),
            ["frames"] = detection["frames"]?.DeepClone() ?? new JsonArray(),
        };
    }

    private static long Long(JsonNode? node, long fallback = 0) =>
        node is JsonValue value && value.TryGetValue<long>(out var l) ? l
        : node is JsonValue d && d.TryGetValue<double>(out var x) ? (long)x
        : fallback;
}
