using Tollgate.Models;

namespace Tollgate.Backends.Reference;

/// <summary>The models of the contracts, as the reference backend tells them apart.</summary>
internal enum ReferenceModel
{
    VelmaBatch,
    SttBatch,
    SttEnglishVfast,
    SttMultilingualVfast,
    AccentBatch,
    EmotionBatch,
    LanguageDetectionBatch,
    PiiBatch,
    MusicBatch,
    AiMusicBatch,
    SyntheticVoiceBatch,
    VelmaStreaming,
    SttStreaming,
    SttEnglishV2Streaming,
    PiiStreaming,
    SyntheticVoiceStreaming,
    MusicStreaming,
    AiMusicStreaming,
}

internal static class ReferenceModels
{
    public static ReferenceModel Of(ModelDescriptor model) => model.Name switch
    {
        "velma-2-batch" => ReferenceModel.VelmaBatch,
        "velma-2-stt-batch" => ReferenceModel.SttBatch,
        "velma-2-stt-batch-english-vfast" => ReferenceModel.SttEnglishVfast,
        "velma-2-stt-batch-multilingual-vfast" => ReferenceModel.SttMultilingualVfast,
        "velma-2-accent-batch" => ReferenceModel.AccentBatch,
        "velma-2-emotion-batch" => ReferenceModel.EmotionBatch,
        "velma-2-language-detection-batch" => ReferenceModel.LanguageDetectionBatch,
        "velma-2-pii-phi-redaction-batch" => ReferenceModel.PiiBatch,
        "velma-2-music-detection-batch" => ReferenceModel.MusicBatch,
        "velma-2-ai-music-detection-batch" => ReferenceModel.AiMusicBatch,
        "velma-2-synthetic-voice-detection-batch" => ReferenceModel.SyntheticVoiceBatch,
        "velma-2-streaming" => ReferenceModel.VelmaStreaming,
        "velma-2-stt-streaming" => ReferenceModel.SttStreaming,
        "velma-2-stt-streaming-english-v2" => ReferenceModel.SttEnglishV2Streaming,
        "velma-2-pii-phi-redaction-streaming" => ReferenceModel.PiiStreaming,
        "velma-2-synthetic-voice-detection-streaming" => ReferenceModel.SyntheticVoiceStreaming,
        "velma-2-music-detection-streaming" => ReferenceModel.MusicStreaming,
        "velma-2-ai-music-detection-streaming" => ReferenceModel.AiMusicStreaming,
        _ => throw new NotSupportedException($"The reference backend has no model named '{model.Name}'."),
    };
}
