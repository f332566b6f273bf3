using System.Text.Json.Nodes;
using Tollgate.Audio;
using Tollgate.Models;

namespace Tollgate.Backends.Reference;

public sealed class ReferenceBatchTests
{
    private static readonly (double, double)[] Bursts = [(0.5, 1.5), (2.0, 2.8), (5.0, 9.0)];
    private static readonly AudioInfo WavInfo = new(AudioContainer.Wav, "pcm_s16le", 10_000, 16_000, 1);
    private static readonly AudioInfo AacInfo = new(AudioContainer.Adts, "aac", 10_000, 44_100, 2);

    [Fact]
    public void Stt_Wav_HasAnUtterancePerBurst()
    {
        var body = Analyze("velma-2-stt-batch", WavInfo, Options("velma-2-stt-batch", ("deepfake_signal", "true"), ("language", "pt-BR")));

        Assert.Equal("", body["text"]!.GetValue<string>());
        Assert.Equal(10_000, body["duration_ms"]!.GetValue<long>());
        var utterances = body["utterances"]!.AsArray();
        Assert.Equal(3, utterances.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.InRange(utterances[i]!["start_ms"]!.GetValue<long>(), Bursts[i].Item1 * 1000 - 100, Bursts[i].Item1 * 1000 + 100);
            Assert.Equal("pt", utterances[i]!["language"]!.GetValue<string>());
            Assert.Equal(0.5, utterances[i]!["deepfake_score"]!.GetValue<double>());
            Assert.Null(utterances[i]!["emotion"]);
        }
    }

    [Fact]
    public void Stt_NoDecoderForTheFormat_IsOneUndeterminedUtterance()
    {
        var body = Analyze("velma-2-stt-batch", AacInfo, Options("velma-2-stt-batch"), new MemoryStream([1, 2, 3]));

        var utterance = Assert.Single(body["utterances"]!.AsArray())!;
        Assert.Equal((0L, 10_000L, "und"), (utterance["start_ms"]!.GetValue<long>(), utterance["duration_ms"]!.GetValue<long>(), utterance["language"]!.GetValue<string>()));
    }

    [Fact]
    public void Segments_NeverPassTheProbedDuration()
    {
        var body = Analyze("velma-2-pii-phi-redaction-batch", WavInfo with { DurationMs = 6_000 }, Options("velma-2-pii-phi-redaction-batch"));

        var utterances = body["utterances"]!.AsArray();
        Assert.Equal(3, utterances.Count);
        Assert.Equal(6_000, utterances[2]!["start_ms"]!.GetValue<long>() + utterances[2]!["duration_ms"]!.GetValue<long>());
        Assert.Empty(body["redaction_ranges"]!.AsArray());
    }

    [Fact]
    public void SyntheticVoice_FramesCoverTheFile_SilenceIsNoContent()
    {
        var body = Analyze("velma-2-synthetic-voice-detection-batch", WavInfo, Options("velma-2-synthetic-voice-detection-batch"), fileName: "dir/call.wav");

        Assert.Equal("call.wav", body["filename"]!.GetValue<string>());
        var frames = body["frames"]!.AsArray().Select(f => (f!["start_time_ms"]!.GetValue<long>(), f["end_time_ms"]!.GetValue<long>(), f["verdict"]!.GetValue<string>())).ToList();
        Assert.Equal([(0, 4000, "non-synthetic"), (4000, 8000, "non-synthetic"), (8000, 10_000, "non-synthetic")], frames);
    }

    [Fact]
    public void SyntheticVoice_NoDecoderForTheFormat_IsUndeterminedFrames()
    {
        var body = Analyze("velma-2-synthetic-voice-detection-batch", AacInfo, Options("velma-2-synthetic-voice-detection-batch"), new MemoryStream([1]), fileName: null);

        Assert.Null(body["filename"]);
        Assert.Equal(3, body["frames"]!.AsArray().Count);
        Assert.All(body["frames"]!.AsArray(), f => Assert.Equal(0.5, f!["confidence"]!.GetValue<double>()));
    }

    [Fact]
    public void Music_FramesAre192Ms_AndTheTonesScoreAsMusic()
    {
        var body = Analyze("velma-2-music-detection-batch", WavInfo, Options("velma-2-music-detection-batch"));

        var frames = body["frames"]!.AsArray();
        Assert.Equal(53, frames.Count);
        Assert.Equal(10_000, frames[^1]!["end_time_ms"]!.GetValue<long>());
        Assert.Equal(10.0, body["duration_s"]!.GetValue<double>());
        Assert.Equal("music", body["primary_label"]!.GetValue<string>());
        Assert.InRange(body["music_pct"]!.GetValue<double>(), 40, 70);
    }

    [Fact]
    public void Music_Compressed_HasNoFramesAndIsUnknown()
    {
        var body = Analyze("velma-2-music-detection-batch", AacInfo, Options("velma-2-music-detection-batch"), new MemoryStream([1]), fileName: null);

        Assert.Empty(body["frames"]!.AsArray());
        Assert.Equal(("unknown", ""), (body["primary_label"]!.GetValue<string>(), body["filename"]!.GetValue<string>()));
    }

    [Fact]
    public void AiMusic_HasA4SecondWindowEach_AndNoAiVerdict()
    {
        var body = Analyze("velma-2-ai-music-detection-batch", WavInfo, Options("velma-2-ai-music-detection-batch"));

        Assert.Equal("not-ai-music", body["primary_verdict"]!.GetValue<string>());
        var windows = body["windows"]!.AsArray();
        Assert.Equal([4000L, 8000L, 10_000L], windows.Select(w => w!["end_time_ms"]!.GetValue<long>()));
        Assert.All(windows, w => Assert.Equal(100.0,
            w!["vocal_percentage"]!.GetValue<double>() + w["instrumental_percentage"]!.GetValue<double>() + w["silence_percentage"]!.GetValue<double>(), 0));
        Assert.All(windows, w => Assert.Equal(0.0, w!["vocal_ai_percentage"]!.GetValue<double>()));
    }

    [Theory]
    [InlineData("velma-2-emotion-batch", "emotion", "Neutral")]
    [InlineData("velma-2-accent-batch", "accent", "Unknown")]
    public void Labels_Per15SecondWindow_RemainderOmitted(string model, string field, string label)
    {
        var body = Analyze(model, AacInfo with { DurationMs = 44_999 }, Options(model), new MemoryStream([1]));

        Assert.Equal(label, body[field]!.GetValue<string>());
        Assert.Equal([0L, 15_000L], body["time_series"]!.AsArray().Select(w => w!["start_ms"]!.GetValue<long>()));
    }

    [Fact]
    public void LanguageDetection_IsUndetermined()
    {
        var body = Analyze("velma-2-language-detection-batch", WavInfo, Options("velma-2-language-detection-batch"));

        Assert.Equal(("Undetermined", "und", 0.0, 10_000L),
            (body["predicted_language"]!.GetValue<string>(), body["predicted_language_code"]!.GetValue<string>(),
             body["confidence"]!.GetValue<double>(), body["duration_ms"]!.GetValue<long>()));
    }

    [Fact]
    public void Velma_SingleCandidates_AreAutoSelected()
    {
        const string config = """
            {"conversation_types": [{"conversation_type_uuid": "11111111-1111-4111-8111-111111111111", "name": "Support", "short_description": "", "detailed_description": ""}],
             "participant_roles": [{"participant_role_uuid": "33333333-3333-4333-8333-333333333333", "name": "Caller", "short_description": "", "detailed_description": ""}],
             "behaviors": [{"behavior_uuid": "22222222-2222-4222-8222-222222222222", "name": "Greets", "short_description": "", "detailed_description": "",
                            "applies_to_participant_role_uuids": ["33333333-3333-4333-8333-333333333333"]}],
             "produce_summary": false}
            """;
        var body = Analyze("velma-2-batch", WavInfo, Options("velma-2-batch", ("config", config)));

        Assert.Equal(3, body["clips"]!.AsArray().Count);
        Assert.Equal("auto_selected_single_option", body["conversation_type_pick"]!["selection_source"]!.GetValue<string>());
        var role = Assert.Single(body["participant_role_picks"]!.AsArray())!;
        Assert.Equal(("1", "Caller"), (role["speaker_label"]!.GetValue<string>(), role["name"]!.GetValue<string>()));
        var behavior = Assert.Single(body["behaviors"]!.AsArray())!;
        Assert.Equal("1", behavior["speaker_label"]!.GetValue<string>());
        Assert.Null(body["summary"]);
        Assert.Empty(body["topics"]!.AsArray());
    }

    [Fact]
    public void ListPresets_NamesEveryPreset()
    {
        var presets = BehaviorPresets.ListResponse()["presets"]!.AsArray();

        Assert.Contains(presets, p => p!["identifier"]!.GetValue<string>() == "complaints");
        Assert.All(presets, p => Assert.False(string.IsNullOrEmpty(p!["detailed_description"]!.GetValue<string>())));
    }

    private static BatchOptions Options(string model, params (string Name, string Value)[] fields)
    {
        Assert.True(BatchOptions.TryParse(ModelCatalog.Get(model), fields.ToDictionary(f => f.Name, f => f.Value), out var options, out var error), error?.Detail);
        return options!;
    }

    private static JsonObject Analyze(string model, AudioInfo info, BatchOptions options, Stream? file = null, string? fileName = "call.wav")
    {
        using var stream = file ?? new MemoryStream(TestSignals.Wav(TestSignals.Bursts(16_000, 10.0, Bursts), 16_000));
        stream.Seek(3, SeekOrigin.Begin);
        Assert.True(ReferenceBatch.TryAnalyze(ModelCatalog.Get(model), info, stream, fileName, options, out var body, out var problem), problem);
        return body;
    }
}
