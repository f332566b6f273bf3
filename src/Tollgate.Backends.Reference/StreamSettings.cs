using System.Globalization;
using Tollgate.Audio;
using Tollgate.Models;
using Tollgate.Backends.Reference.Options;
using Tollgate.Backends.Reference.Velma;

namespace Tollgate.Backends.Reference;

/// <summary>
/// A streaming channel's connection parameters, validated with the AsyncAPI contracts' exact error texts:
/// <c>audio_format</c> / <c>sample_rate</c> / <c>num_channels</c> on every channel, plus the STT switches and
/// <c>language</c> on velma-2-stt-streaming, and diarization, redaction paddings and <c>language</c> on the PII
/// channel. Parameters a channel does not document are ignored; <c>sample_rate</c>/<c>num_channels</c> given with a
/// self-describing format are validated but otherwise ignored (the header says). The first-frame configuration of
/// velma-2-stt-streaming (optional) and velma-2-streaming (required) is applied by <see cref="TryApplyConfig"/>.
/// </summary>
internal sealed class StreamSettings
{
    public const string InvalidConfiguration = "Invalid configuration.";
    private const string FormatRequired = "audio_format query parameter is required. Example: audio_format=s16le&sample_rate=16000&num_channels=1";
    private const string ParamsWithoutFormat = "sample_rate and num_channels require audio_format to be specified";
    private const string RawNeedsParams = "Raw audio formats require sample_rate and num_channels query parameters";
    private const string CouldNotProcess = "The audio could not be processed. It may be corrupted or in an unsupported format.";
    private const string Mismatch = "Audio data does not match the declared audio_format.";
    private const string InvalidInput = "Invalid input audio";

    private StreamSettings(ModelDescriptor model, ReferenceModel channel)
    {
        Model = model;
        Channel = channel;
    }

    public ModelDescriptor Model { get; }

    public ReferenceModel Channel { get; }

    /// <summary>The declared <c>audio_format</c>, or null to detect the container from the bytes.</summary>
    public string? AudioFormat { get; private init; }

    /// <summary>The raw sample layout when <see cref="AudioFormat"/> is a raw format.</summary>
    public RawSampleFormat? Raw { get; private init; }

    /// <summary>Raw formats: the declared rate; otherwise 0 (the header says).</summary>
    public int SampleRate { get; private init; }

    /// <summary>Raw formats: the declared channel count; otherwise 0 (the header says).</summary>
    public int Channels { get; private init; }

    public SttOptions Stt { get; private set; } = SttOptions.Default;

    /// <summary>velma-2-streaming: the configuration of the first frame.</summary>
    public VelmaConfig Velma { get; private set; } = VelmaConfig.Default;

    public int StartRedactionPaddingMs { get; private init; } = 100;

    public int EndRedactionPaddingMs { get; private init; }

    /// <summary>The channel takes a JSON configuration as its first text frame.</summary>
    public bool AcceptsConfigFrame => Channel is ReferenceModel.SttStreaming or ReferenceModel.VelmaStreaming;

    /// <summary>The first frame must be <c>default</c> or a BatchConfig JSON (velma-2-streaming).</summary>
    public bool RequiresConfigFrame => Channel == ReferenceModel.VelmaStreaming;

    /// <summary>The close code for audio that cannot be decoded or does not match the declared format.</summary>
    public int BadAudioCloseCode => Model.Uses4002ForBadAudio ? 4002 : 1003;

    /// <summary>The channel's contract text for audio that cannot be decoded.</summary>
    public string UndecodableAudioError => Channel switch
    {
        ReferenceModel.SyntheticVoiceStreaming or ReferenceModel.AiMusicStreaming => CouldNotProcess,
        ReferenceModel.SttEnglishV2Streaming or ReferenceModel.MusicStreaming => Mismatch,
        _ => InvalidInput,
    };

    /// <summary>The channel's contract text for bytes that are not in the declared format.</summary>
    public string MismatchedAudioError => Model.Uses4002ForBadAudio ? Mismatch : InvalidInput;

    public static bool TryParse(ModelDescriptor model, IReadOnlyDictionary<string, string> query, out StreamSettings? settings, out string? error)
    {
        settings = null;
        var channel = ReferenceModels.Of(model);
        if (!TryAudio(model, query, out var format, out var raw, out var rate, out var channels, out error))
        {
            return false;
        }
        var stt = SttOptions.Default;
        int start = 100, end = 0;
        if (channel == ReferenceModel.SttStreaming
            && !TrySwitches(query, ["speaker_diarization", "emotion_signal", "accent_signal", "deepfake_signal", "pii_phi_tagging", "partial_results"], ref stt, out error))
        {
            return false;
        }
        if (channel == ReferenceModel.PiiStreaming
            && (!TrySwitches(query, ["speaker_diarization"], ref stt, out error)
                || !TryPadding(query, "start_redaction_padding_ms", ref start, out error)
                || !TryPadding(query, "end_redaction_padding_ms", ref end, out error)))
        {
            return false;
        }
        if (channel is ReferenceModel.SttStreaming or ReferenceModel.PiiStreaming && FormValues.TryGet(query, "language", out var hint))
        {
            if (!LanguageHint.TryParse(hint, out var primary))
            {
                error = LanguageHint.InvalidMessage(hint);
                return false;
            }
            stt = stt with { Language = primary };
        }
        settings = new StreamSettings(model, channel)
        {
            AudioFormat = format,
            Raw = raw,
            SampleRate = rate,
            Channels = channels,
            Stt = stt,
            StartRedactionPaddingMs = start,
            EndRedactionPaddingMs = end,
        };
        return true;
    }

    /// <summary>
    /// Applies the first text frame: velma-2-streaming takes <c>default</c> or a BatchConfig JSON; velma-2-stt-streaming
    /// takes an STTStreamConfig JSON whose fields override the query parameters.
    /// </summary>
    public bool TryApplyConfig(string text, out string? error)
    {
        error = InvalidConfiguration;
        switch (Channel)
        {
            case ReferenceModel.VelmaStreaming:
                if (VelmaConfigParser.Parse(text) is not { } velma)
                {
                    return false;
                }
                Velma = velma;
                Stt = velma.Stt;
                error = null;
                return true;
            case ReferenceModel.SttStreaming:
                if (JsonFields.ParseObject(text) is not { } obj)
                {
                    return false;
                }
                if (!SttConfigReader.TryApply(obj, Stt, true, out var stt, out error))
                {
                    return false;
                }
                Stt = stt;
                return true;
            default:
                return false;
        }
    }

    private static bool TryAudio(ModelDescriptor model, IReadOnlyDictionary<string, string> query,
        out string? format, out RawSampleFormat? raw, out int rate, out int channels, out string? error)
    {
        raw = null;
        rate = channels = 0;
        error = null;
        var hasFormat = FormValues.TryGet(query, "audio_format", out var declared);
        var hasRate = FormValues.TryGet(query, "sample_rate", out var rateText);
        var hasChannels = FormValues.TryGet(query, "num_channels", out var channelText);
        format = hasFormat ? declared : null;
        if (!hasFormat)
        {
            error = model.AudioFormatRequired ? FormatRequired : hasRate || hasChannels ? ParamsWithoutFormat : null;
            return error is null;
        }
        if (!model.StreamFormats.Contains(declared))
        {
            var valid = string.Join(", ", model.StreamFormats.Order(StringComparer.Ordinal).Select(f => $"'{f}'"));
            error = $"Invalid audio_format='{declared}'. Valid values: [{valid}]";
            return false;
        }
        var isRaw = RawSampleFormat.TryParse(declared, out var sample);
        if (isRaw && !(hasRate && hasChannels))
        {
            error = RawNeedsParams;
            return false;
        }
        if (hasRate && !(int.TryParse(rateText, NumberStyles.None, CultureInfo.InvariantCulture, out var r) && ModelCatalog.SampleRates.Contains(r)))
        {
            error = $"Invalid sample_rate={rateText}. Valid values: [{string.Join(", ", ModelCatalog.SampleRates)}]";
            return false;
        }
        if (hasChannels && !(int.TryParse(channelText, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c is >= 1 and <= 8))
        {
            error = $"Invalid num_channels={channelText}. Must be between 1 and 8";
            return false;
        }
        if (isRaw)
        {
            raw = sample;
            rate = int.Parse(rateText, CultureInfo.InvariantCulture);
            channels = int.Parse(channelText, CultureInfo.InvariantCulture);
        }
        return true;
    }

    private static bool TrySwitches(IReadOnlyDictionary<string, string> query, string[] names, ref SttOptions stt, out string? error)
    {
        error = null;
        foreach (var name in names)
        {
            if (!FormValues.TryGet(query, name, out var text))
            {
                continue;
            }
            if (!FormValues.TryBool(text, out var value))
            {
                error = $"Invalid {name}='{text}'. Expected true or false";
                return false;
            }
            stt = name switch
            {
                "speaker_diarization" => stt with { SpeakerDiarization = value },
                "emotion_signal" => stt with { EmotionSignal = value },
                "accent_signal" => stt with { AccentSignal = value },
                "deepfake_signal" => stt with { DeepfakeSignal = value },
                "pii_phi_tagging" => stt with { PiiPhiTagging = value },
                _ => stt with { PartialResults = value },
            };
        }
        return true;
    }

    private static bool TryPadding(IReadOnlyDictionary<string, string> query, string name, ref int value, out string? error)
    {
        error = null;
        if (FormValues.TryGet(query, name, out var text) && !FormValues.TryNonNegative(text, out value))
        {
            error = $"Invalid {name}='{text}'. Must be an integer >= 0";
            return false;
        }
        return true;
    }
}
