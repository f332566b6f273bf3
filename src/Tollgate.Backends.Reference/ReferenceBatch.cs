using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using Tollgate.Audio;
using Tollgate.Models;
using Tollgate.Backends.Reference.Batch;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference;

/// <summary>
/// The reference backend's batch answers: the 200 body of each batch contract (for PII/PHI redaction, the
/// <c>metadata</c> part), filled from real, simple signal processing of the uploaded file and never from a model.
/// <list type="bullet">
/// <item>Decoding, in bounded chunks (<see cref="FileDecoder"/>): WAV/AIFF/AU with PCM, float or G.711 samples, and
/// MP3, FLAC, Ogg Vorbis/Opus/FLAC and WebM Opus/Vorbis through the managed decoders, so one recording gives the same
/// answer in any of them. Formats with no managed decoder here (AAC/ADTS, MP4/M4A/MOV/3GP, WMA, AMR) count as one
/// undetermined span of their probed duration (one utterance or clip; undetermined synthetic-voice frames; no music
/// frames, label "unknown"; no AI-music windows). Damaged compressed data is refused (see <see cref="TryAnalyze"/>).</item>
/// <item>Transcripts are empty, the speaker is 1, the language is the hint or "und"; labels are "Neutral" / "Unknown";
/// detectors answer "non-synthetic" at 0.5 for sound and "no-content" for silence, "not-ai-music", "Undetermined".</item>
/// <item>Every duration equals the probed duration <see cref="AudioInfo.DurationMs"/>, and no segment, frame or
/// window reaches past it.</item>
/// </list>
/// </summary>
internal static class ReferenceBatch
{
    /// <summary>
    /// The answer for <paramref name="file"/>, or false with <paramref name="undecodable"/> saying why when its
    /// compressed data turned out to be damaged while decoding (the caller answers "could not be processed").
    /// </summary>
    public static bool TryAnalyze(ModelDescriptor model, AudioInfo info, Stream file, string? fileName, BatchOptions options,
        [NotNullWhen(true)] out JsonObject? body, [NotNullWhen(false)] out string? undecodable)
    {
        var clock = Stopwatch.StartNew();
        var kind = ReferenceModels.Of(model);
        var signal = BatchSignal.Read(info, file, Features(kind));
        if (signal.Undecodable is { } problem)
        {
            body = null;
            undecodable = problem;
            return false;
        }
        undecodable = null;
        body = Answer(model, kind, info, signal, fileName, options, clock);
        return true;
    }

    private static JsonObject Answer(ModelDescriptor model, ReferenceModel kind, AudioInfo info, BatchSignal signal, string? fileName,
        BatchOptions options, Stopwatch clock)
    {
        return kind switch
        {
            ReferenceModel.SttBatch => TranscriptBatch.Stt(signal, options.Stt),
            ReferenceModel.SttEnglishVfast or ReferenceModel.SttMultilingualVfast => TranscriptBatch.TextOnly(info.DurationMs),
            ReferenceModel.PiiBatch => TranscriptBatch.PiiMetadata(signal, options.Stt),
            ReferenceModel.VelmaBatch => TranscriptBatch.Velma(signal, options.Velma),
            ReferenceModel.AccentBatch => LabelBatch.Accent(info.DurationMs),
            ReferenceModel.EmotionBatch => LabelBatch.Emotion(info.DurationMs),
            ReferenceModel.LanguageDetectionBatch => LabelBatch.Language(info.DurationMs),
            ReferenceModel.SyntheticVoiceBatch => DetectionBatch.SyntheticVoice(signal, fileName),
            ReferenceModel.MusicBatch => DetectionBatch.Music(signal, fileName, Latency(clock)),
            ReferenceModel.AiMusicBatch => DetectionBatch.AiMusic(signal, fileName, Latency(clock)),
            _ => throw new NotSupportedException($"{model.Name} is not a batch model."),
        };
    }

    /// <summary>The analyses each answer needs (none for answers that follow from the duration alone).</summary>
    private static SignalFeatures Features(ReferenceModel kind) => kind switch
    {
        ReferenceModel.SttBatch or ReferenceModel.PiiBatch or ReferenceModel.VelmaBatch => SignalFeatures.Segments,
        ReferenceModel.SyntheticVoiceBatch => SignalFeatures.VoiceWindows,
        ReferenceModel.MusicBatch => SignalFeatures.MusicFrames,
        ReferenceModel.AiMusicBatch => SignalFeatures.MusicWindows,
        _ => SignalFeatures.None,
    };

    private static double Latency(Stopwatch clock) => Math.Round(clock.Elapsed.TotalMilliseconds, 1);
}
