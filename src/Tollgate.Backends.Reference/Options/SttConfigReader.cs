using System.Text.Json.Nodes;

namespace Tollgate.Backends.Reference.Options;

/// <summary>
/// Applies a JSON STT configuration (<c>STTConfig</c>, <c>STTStreamConfig</c>, a BatchConfig's <c>stt</c>) over
/// current options: every field is optional and a field present overrides; unknown fields are ignored.
/// </summary>
internal static class SttConfigReader
{
    public const string InvalidConfiguration = "Invalid configuration.";

    /// <param name="obj">The configuration object.</param>
    /// <param name="current">The options it overrides.</param>
    /// <param name="allowPartialResults">Whether <c>partial_results</c> belongs to this schema (streaming only).</param>
    /// <param name="result">The options with the overrides applied.</param>
    /// <param name="error">"Invalid configuration." or the contracts' invalid-language text.</param>
    public static bool TryApply(JsonObject obj, SttOptions current, bool allowPartialResults, out SttOptions result, out string? error)
    {
        result = current;
        error = InvalidConfiguration;
        foreach (var (name, value) in obj)
        {
            switch (name)
            {
                case "speaker_diarization" or "emotion_signal" or "accent_signal" or "deepfake_signal" or "pii_phi_tagging":
                case "partial_results" when allowPartialResults:
                    if (!JsonFields.IsBool(value, out var flag))
                    {
                        return false;
                    }
                    result = name switch
                    {
                        "speaker_diarization" => result with { SpeakerDiarization = flag },
                        "emotion_signal" => result with { EmotionSignal = flag },
                        "accent_signal" => result with { AccentSignal = flag },
                        "deepfake_signal" => result with { DeepfakeSignal = flag },
                        "pii_phi_tagging" => result with { PiiPhiTagging = flag },
                        _ => result with { PartialResults = flag },
                    };
                    break;
                case "language":
                    if (value is null)
                    {
                        result = result with { Language = null };
                        break;
                    }
                    if (!JsonFields.IsString(value, out var hint))
                    {
                        return false;
                    }
                    if (!LanguageHint.TryParse(hint, out var primary))
                    {
                        error = LanguageHint.InvalidMessage(hint);
                        return false;
                    }
                    result = result with { Language = primary };
                    break;
                case "custom_terms":
                    if (!CustomTerms.TryValidate(value, out var kept))
                    {
                        return false;
                    }
                    result = result with { CustomTermCount = kept };
                    break;
            }
        }
        error = null;
        return true;
    }
}
