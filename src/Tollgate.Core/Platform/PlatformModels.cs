namespace Tollgate.Platform;

/// <summary>The optional analyses a Platform API job may ask for (its <c>flags</c>), each charged as one more API call.</summary>
[Flags]
public enum PlatformFlags
{
    None = 0,

    /// <summary><c>emotion_annotation</c> (documented): an emotion label per utterance.</summary>
    EmotionAnnotation = 1,

    /// <summary><c>demographics</c> (documented): per-speaker estimates.</summary>
    Demographics = 2,

    /// <summary><c>deepfake_detection</c> (this server's name for the feature the documentation lists without one): a synthetic-speech score.</summary>
    DeepfakeDetection = 4,
}

/// <summary>One analysis flag: its wire name, the model that computes it (entitlement and quota) and what it adds.</summary>
internal sealed record PlatformAnalysis(PlatformFlags Flag, string Name, string Model, string Adds);

/// <summary>
/// Which models a Platform API job uses (DESIGN 1, issue 11): the transcription model for every file, plus one model
/// per requested analysis flag. Each is checked against the key's entitlements and charged (the file's audio time)
/// against that model's monthly quota; a realtime stream is metered, and holds its concurrency lease, on the
/// streaming transcription model. This table is the README's "Platform API models" table.
/// </summary>
internal static class PlatformModels
{
    /// <summary>Transcribes every file of a batch job.</summary>
    public const string Transcription = "velma-2-stt-batch";

    /// <summary>Transcribes a realtime stream as it arrives (lease and metering while the stream is open).</summary>
    public const string RealtimeTranscription = "velma-2-stt-streaming";

    public static IReadOnlyList<PlatformAnalysis> Analyses { get; } =
    [
        new(PlatformFlags.EmotionAnnotation, "emotion_annotation", "velma-2-emotion-batch", "an emotion label on each utterance"),
        new(PlatformFlags.Demographics, "demographics", "velma-2-accent-batch", "per-speaker estimates (the accent model's label)"),
        new(PlatformFlags.DeepfakeDetection, "deepfake_detection", "velma-2-synthetic-voice-detection-batch", "a synthetic-speech score"),
    ];

    /// <summary>Shortest audio the deepfake analysis accepts (its model's limit).</summary>
    public const long DeepfakeMinDurationMs = 500;

    public static bool TryParseFlag(string name, out PlatformAnalysis analysis)
    {
        foreach (var a in Analyses)
        {
            if (a.Name == name)
            {
                analysis = a;
                return true;
            }
        }
        analysis = null!;
        return false;
    }

    /// <summary>The analyses <paramref name="flags"/> asks for, in table order.</summary>
    public static IEnumerable<PlatformAnalysis> For(PlatformFlags flags) => Analyses.Where(a => flags.HasFlag(a.Flag));

    /// <summary>Every model a file of a batch job with <paramref name="flags"/> uses: transcription first.</summary>
    public static IReadOnlyList<string> BatchModels(PlatformFlags flags) => [Transcription, .. For(flags).Select(a => a.Model)];

    /// <summary>API calls a file (or a realtime session) costs: one for transcription, one per flag.</summary>
    public static int ApiCalls(PlatformFlags flags) => 1 + For(flags).Count();

    /// <summary>The flags as the wire's <c>flags</c> object names them.</summary>
    public static IEnumerable<string> Names(PlatformFlags flags) => For(flags).Select(a => a.Name);
}
