using Tollgate.Models;
using Tollgate.Backends.Reference.Options;
using Tollgate.Backends.Reference.Velma;

namespace Tollgate.Backends.Reference;

/// <summary>
/// The documented form fields of a batch endpoint, validated as its contract says. Fields a contract does not
/// document are ignored; a documented field left blank counts as omitted.
/// <list type="bullet">
/// <item>velma-2-stt-batch: <c>speaker_diarization</c>, <c>emotion_signal</c>, <c>accent_signal</c>, <c>deepfake_signal</c>,
/// <c>pii_phi_tagging</c>, <c>language</c>, and <c>config</c> (a JSON STTConfig whose fields override the others);</item>
/// <item>velma-2-pii-phi-redaction-batch: <c>speaker_diarization</c>, <c>start_redaction_padding_ms</c>, <c>end_redaction_padding_ms</c>, <c>language</c>;</item>
/// <item>velma-2-batch: <c>config</c> (<c>default</c> or a BatchConfig JSON; malformed → 422 "Invalid configuration.");</item>
/// <item>velma-2-stt-batch-multilingual-vfast: <c>language</c>; accent and emotion: <c>training_permitted</c>, <c>use_ensemble</c>.</item>
/// </list>
/// A malformed accent or emotion field is 422 (their contracts'); other malformed values are 400 with the contracts' texts ("Invalid request.", "Invalid configuration.",
/// "Invalid language='…'. Expected an ISO 639-1 language code (e.g. 'en', 'fr').").
/// </summary>
internal sealed class BatchOptions
{
    private const int Status400 = 400;
    private const int Status422 = 422;

    public SttOptions Stt { get; private init; } = SttOptions.Default;

    /// <summary>velma-2-batch: the analysis configuration.</summary>
    public VelmaConfig Velma { get; private init; } = VelmaConfig.Default;

    public int StartRedactionPaddingMs { get; private init; } = 100;

    public int EndRedactionPaddingMs { get; private init; }

    /// <summary>Accent/emotion: whether the audio may be used for training (the reference keeps nothing either way).</summary>
    public bool TrainingPermitted { get; private init; } = true;

    /// <summary>Accent/emotion: the "more thorough analysis" switch (the reference has one analysis).</summary>
    public bool UseEnsemble { get; private init; }

    public static bool TryParse(ModelDescriptor model, IReadOnlyDictionary<string, string> fields, out BatchOptions? options, out BatchOptionsError? error)
    {
        options = null;
        error = null;
        switch (ReferenceModels.Of(model))
        {
            case ReferenceModel.SttBatch:
                if (!TrySttFields(fields, ["speaker_diarization", "emotion_signal", "accent_signal", "deepfake_signal", "pii_phi_tagging"], out var stt, out error))
                {
                    return false;
                }
                if (FormValues.TryGet(fields, "config", out var sttConfig))
                {
                    string? configError = BatchOptionsError.InvalidConfiguration;
                    if (JsonFields.ParseObject(sttConfig) is not { } obj || !SttConfigReader.TryApply(obj, stt, false, out stt, out configError))
                    {
                        var detail = configError ?? BatchOptionsError.InvalidConfiguration;
                        error = Invalid(detail, configuration: detail == BatchOptionsError.InvalidConfiguration);
                        return false;
                    }
                }
                options = new BatchOptions { Stt = stt };
                return true;
            case ReferenceModel.PiiBatch:
                if (!TrySttFields(fields, ["speaker_diarization"], out var pii, out error)
                    || !TryPadding(fields, "start_redaction_padding_ms", 100, out var start, out error)
                    || !TryPadding(fields, "end_redaction_padding_ms", 0, out var end, out error))
                {
                    return false;
                }
                options = new BatchOptions { Stt = pii, StartRedactionPaddingMs = start, EndRedactionPaddingMs = end };
                return true;
            case ReferenceModel.SttMultilingualVfast:
                if (!TrySttFields(fields, [], out var multilingual, out error))
                {
                    return false;
                }
                options = new BatchOptions { Stt = multilingual };
                return true;
            case ReferenceModel.VelmaBatch:
                var velma = FormValues.TryGet(fields, "config", out var text) ? VelmaConfigParser.Parse(text) : VelmaConfig.Default;
                if (velma is null)
                {
                    error = new BatchOptionsError(Status422, BatchOptionsError.InvalidConfigurationCode, BatchOptionsError.InvalidConfiguration);
                    return false;
                }
                options = new BatchOptions { Velma = velma, Stt = velma.Stt };
                return true;
            case ReferenceModel.AccentBatch or ReferenceModel.EmotionBatch:
                if (!TryBool(fields, "training_permitted", true, out var training, out error)
                    || !TryBool(fields, "use_ensemble", false, out var ensemble, out error))
                {
                    error = error! with { Status = model.MalformedFieldIs422 ? Status422 : Status400 };
                    return false;
                }
                options = new BatchOptions { TrainingPermitted = training, UseEnsemble = ensemble };
                return true;
            default:
                options = new BatchOptions();
                return true;
        }
    }

    private static bool TrySttFields(IReadOnlyDictionary<string, string> fields, string[] flags, out SttOptions stt, out BatchOptionsError? error)
    {
        stt = SttOptions.Default;
        foreach (var name in flags)
        {
            if (!TryBool(fields, name, name == "speaker_diarization", out var value, out error))
            {
                return false;
            }
            stt = name switch
            {
                "speaker_diarization" => stt with { SpeakerDiarization = value },
                "emotion_signal" => stt with { EmotionSignal = value },
                "accent_signal" => stt with { AccentSignal = value },
                "deepfake_signal" => stt with { DeepfakeSignal = value },
                _ => stt with { PiiPhiTagging = value },
            };
        }
        error = null;
        if (FormValues.TryGet(fields, "language", out var hint))
        {
            if (!LanguageHint.TryParse(hint.Trim(), out var primary))
            {
                error = Invalid(LanguageHint.InvalidMessage(hint), configuration: false);
                return false;
            }
            stt = stt with { Language = primary };
        }
        return true;
    }

    private static bool TryBool(IReadOnlyDictionary<string, string> fields, string name, bool fallback, out bool value, out BatchOptionsError? error)
    {
        error = null;
        value = fallback;
        if (FormValues.TryGet(fields, name, out var text) && !FormValues.TryBool(text, out value))
        {
            error = Invalid(BatchOptionsError.InvalidRequest, configuration: false);
            return false;
        }
        return true;
    }

    private static bool TryPadding(IReadOnlyDictionary<string, string> fields, string name, int fallback, out int value, out BatchOptionsError? error)
    {
        error = null;
        value = fallback;
        if (FormValues.TryGet(fields, name, out var text) && !FormValues.TryNonNegative(text, out value))
        {
            error = Invalid(BatchOptionsError.InvalidRequest, configuration: false);
            return false;
        }
        return true;
    }

    private static BatchOptionsError Invalid(string detail, bool configuration) => new(
        Status400, configuration ? BatchOptionsError.InvalidConfigurationCode : BatchOptionsError.InvalidParameterCode, detail);
}
