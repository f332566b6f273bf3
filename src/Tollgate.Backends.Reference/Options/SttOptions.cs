namespace Tollgate.Backends.Reference.Options;

/// <summary>
/// The per-request STT switches the contracts share (form fields, query parameters, <c>STTConfig</c>,
/// <c>STTStreamConfig</c>, a BatchConfig's <c>stt</c>), with the contracts' defaults.
/// </summary>
internal sealed record SttOptions
{
    public static readonly SttOptions Default = new();

    public bool SpeakerDiarization { get; init; } = true;
    public bool EmotionSignal { get; init; }
    public bool AccentSignal { get; init; }
    public bool DeepfakeSignal { get; init; }
    public bool PiiPhiTagging { get; init; }
    public bool PartialResults { get; init; }

    /// <summary>The hint's primary subtag (lower case), or null to "detect" — which the reference cannot do.</summary>
    public string? Language { get; init; }

    /// <summary>The custom vocabulary entries kept after blank ones were dropped (validated, unused: there is no recognizer).</summary>
    public int CustomTermCount { get; init; }

    /// <summary>The language the reference reports: the hint, else "und" (it has no language identifier).</summary>
    public string ReportedLanguage => Language ?? LanguageHint.Undetermined;
}
