using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Tollgate.Models;

namespace Tollgate.Backends.Reference;

public sealed class StreamAnalyzerTests
{
    private static readonly (double, double)[] Bursts = [(0.5, 1.5), (2.0, 2.8)];

    public static TheoryData<string, int, int> RawLayouts => new()
    {
        { "s16le", 16_000, 1 },
        { "f32be", 44_100, 1 },
        { "mulaw", 8_000, 1 },
        { "s16le", 48_000, 2 },
        { "s24le", 22_050, 2 },
        { "u8", 11_025, 1 },
    };

    [Theory]
    [MemberData(nameof(RawLayouts))]
    public void Raw_DurationIsExactAfterEveryAppend(string format, int rate, int channels)
    {
        var raw = TestSignals.Format(format);
        var audio = TestSignals.Encode(TestSignals.Bursts(rate, 3.3, Bursts), raw, channels);
        using var analyzer = Create("velma-2-stt-streaming", $"audio_format={format}&sample_rate={rate}&num_channels={channels}");
        var events = new List<StreamEvent>();
        long sent = 0;
        foreach (var chunk in TestSignals.Chunks(audio, 1, 3333, 7, 1000, 4096, 2))
        {
            analyzer.Append(chunk.Span, events);
            sent += chunk.Length;
            Assert.Equal(sent / (raw.BytesPerSample * channels) * 1000 / rate, analyzer.DurationMs);
        }

        var outcome = analyzer.Complete(events);

        Assert.True(outcome.Succeeded);
        var total = audio.Length / (raw.BytesPerSample * channels) * 1000 / rate;
        Assert.InRange(total, 3299, 3300);
        Assert.Equal(total, analyzer.DurationMs);
        Assert.Equal(total, Last(events)["duration_ms"]!.GetValue<long>());
        Assert.Equal(2, Messages(events, "utterance").Count);
    }

    [Fact]
    public void Wav_HeaderSplitAcrossAppends_CountsOnlyTheSamples()
    {
        var wav = TestSignals.Wav(TestSignals.Bursts(16_000, 3.0, Bursts), 16_000, extraChunk: true);
        const int headerBytes = 58;
        using var analyzer = Create("velma-2-stt-streaming", "");
        var events = new List<StreamEvent>();
        var sent = 0;
        foreach (var chunk in TestSignals.Chunks(wav, 1, 1, 5, 3, 19, 1001, 3333))
        {
            analyzer.Append(chunk.Span, events);
            sent += chunk.Length;
            Assert.Equal(Math.Max(0, sent - headerBytes) / 2 * 1000 / 16_000, analyzer.DurationMs);
        }

        Assert.True(analyzer.Complete(events).Succeeded);
        Assert.Equal(3000, Last(events)["duration_ms"]!.GetValue<long>());
        var utterances = Messages(events, "utterance");
        Assert.Equal(2, utterances.Count);
        Assert.InRange(utterances[1]["utterance"]!["start_ms"]!.GetValue<long>(), 1900, 2100);
    }

    [Fact]
    public void Wav_BytesAfterTheDataChunk_AreNotAudio()
    {
        var wav = TestSignals.Wav(new float[16_000], 16_000, trailer: 6_400);
        using var analyzer = Create("velma-2-music-detection-streaming", "audio_format=wav");
        var events = new List<StreamEvent>();

        analyzer.Append(wav, events);

        Assert.Equal(1000, analyzer.DurationMs);
        Assert.True(analyzer.Complete(events).Succeeded);
        Assert.Equal("neither", Last(events)["primary_label"]!.GetValue<string>());
    }

    [Fact]
    public void Wav_WithAStreamedSize_CountsEverythingAfterTheHeader()
    {
        var wav = TestSignals.Wav(new float[24_000], 16_000, streamedSize: true);
        using var analyzer = Create("velma-2-stt-streaming-english-v2", "audio_format=wav");
        var events = new List<StreamEvent>();

        analyzer.Append(wav, events);
        analyzer.Complete(events);

        Assert.Equal(1500, analyzer.DurationMs);
        Assert.Equal(["partial_utterance", "utterance", "done"], events.Select(e => e.Json!["type"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("aiff")]
    [InlineData("au")]
    public void AiffAndAu_AreDetectedAndDecoded(string container)
    {
        var samples = TestSignals.Bursts(8_000, 5.0, [(0.5, 1.5), (4.5, 5.0)]);
        var bytes = container == "aiff" ? TestSignals.Aiff(samples, 8_000) : TestSignals.Au(samples, 8_000);
        using var analyzer = Create("velma-2-synthetic-voice-detection-streaming", "audio_format=" + container);
        var events = new List<StreamEvent>();
        foreach (var chunk in TestSignals.Chunks(bytes, 3, 500))
        {
            analyzer.Append(chunk.Span, events);
        }

        Assert.True(analyzer.Complete(events).Succeeded);
        var frames = Messages(events, "frame").Select(f => f["frame"]!).ToList();
        Assert.Equal(2, frames.Count);
        Assert.Equal("non-synthetic", frames[0]["verdict"]!.GetValue<string>());
        Assert.Equal(0.5, frames[0]["confidence"]!.GetValue<double>());
        Assert.Equal((4000L, 5000L), (frames[1]["start_time_ms"]!.GetValue<long>(), frames[1]["end_time_ms"]!.GetValue<long>()));
        Assert.Equal(2, Last(events)["frame_count"]!.GetValue<int>());
        Assert.Equal(5000, analyzer.DurationMs);
    }

    [Fact]
    public void InvalidWavHeader_FailsAtOnce_WithTheContractsTextAndCloseCode()
    {
        using var analyzer = Create("velma-2-synthetic-voice-detection-streaming", "audio_format=wav");
        var events = new List<StreamEvent>();

        analyzer.Append(Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray(), events);

        Assert.Equal(new StreamOutcome(false, 4002, "Audio data does not match the declared audio_format."), analyzer.Failure);
        Assert.Equal(analyzer.Failure, analyzer.Complete(events));
        Assert.Empty(events);
    }

    [Fact]
    public void TruncatedHeader_OnA1003Channel_FailsAtTheEnd()
    {
        using var analyzer = Create("velma-2-stt-streaming", "audio_format=wav");
        var events = new List<StreamEvent>();

        analyzer.Append(TestSignals.Wav(new float[10], 16_000)[..30], events);

        Assert.Null(analyzer.Failure);
        Assert.Equal(new StreamOutcome(false, 1003, "Invalid input audio"), analyzer.Complete(events));
    }

    [Fact]
    public void ContainerBytes_OnARawChannel_DoNotMatchTheDeclaredFormat()
    {
        using var analyzer = Create("velma-2-stt-streaming-english-v2", "audio_format=s16le&sample_rate=16000&num_channels=1");
        var events = new List<StreamEvent>();

        analyzer.Append(TestSignals.Wav(new float[1000], 16_000).AsSpan(0, 5), events);
        Assert.Null(analyzer.Failure);
        analyzer.Append(TestSignals.Wav(new float[1000], 16_000).AsSpan(5), events);

        Assert.Equal(new StreamOutcome(false, 4002, "Audio data does not match the declared audio_format."), analyzer.Failure);
    }

    [Fact]
    public void Stt_UtteranceIsSentOnceItsSilenceIsHeard_BeforeTheEnd()
    {
        using var analyzer = Create("velma-2-stt-streaming", "audio_format=s16le&sample_rate=16000&num_channels=1&emotion_signal=true&language=fr-CA");
        var audio = TestSignals.Encode(TestSignals.Bursts(16_000, 2.0, [(0.2, 1.0)]), TestSignals.Format("s16le"));
        var events = new List<StreamEvent>();

        analyzer.Append(audio.AsSpan(0, 32_000 * 1), events);
        Assert.Empty(events);
        analyzer.Append(audio.AsSpan(32_000), events);

        var utterance = Assert.Single(events).Json!["utterance"]!;
        Assert.Equal("", utterance["text"]!.GetValue<string>());
        Assert.Equal("fr", utterance["language"]!.GetValue<string>());
        Assert.Equal("Neutral", utterance["emotion"]!.GetValue<string>());
        Assert.Null(utterance["accent"]);
        Assert.Equal(1, utterance["speaker"]!.GetValue<int>());
    }

    [Fact]
    public void Stt_PartialResults_WhileASegmentGrows()
    {
        var settings = Settings("velma-2-stt-streaming", "audio_format=s16le&sample_rate=16000&num_channels=1");
        Assert.True(settings.TryApplyConfig("""{"partial_results": true, "accent_signal": true}""", out _));
        using var analyzer = ReferenceStreaming.Create(settings);
        var events = new List<StreamEvent>();
        var audio = TestSignals.Encode(TestSignals.Bursts(16_000, 4.0, [(0.5, 3.0)]), TestSignals.Format("s16le"));
        foreach (var chunk in TestSignals.Chunks(audio, 3200))
        {
            analyzer.Append(chunk.Span, events);
        }
        analyzer.Complete(events);

        var types = events.Select(e => e.Json!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["partial_utterance", "partial_utterance", "partial_utterance", "utterance", "done"], types);
        var partial = events[0].Json!["partial_utterance"]!;
        Assert.Equal(("", 500L, "Unknown"), (partial["text"]!.GetValue<string>(), partial["start_ms"]!.GetValue<long>(), partial["accent"]!.GetValue<string>()));
    }

    [Fact]
    public void Pii_EachUtteranceIsFollowedByItsAudioWindow()
    {
        using var analyzer = Create("velma-2-pii-phi-redaction-streaming", "audio_format=s16le&sample_rate=16000&num_channels=1");
        var audio = TestSignals.Encode(TestSignals.Bursts(16_000, 4.0, Bursts), TestSignals.Format("s16le"));
        var events = new List<StreamEvent>();
        foreach (var chunk in TestSignals.Chunks(audio, 3200))
        {
            analyzer.Append(chunk.Span, events);
        }
        analyzer.Complete(events);

        Assert.Equal([true, false, true, false, true, false], events.Select(e => e.Json is not null));
        long covered = 0;
        foreach (var (message, clip) in events.Chunk(2).Select(p => (p[0].Json!, p[1].Binary)))
        {
            var info = (message["redacted_audio"] ?? message["trailing_redacted_audio"])!;
            Assert.Equal(covered, info["start_ms"]!.GetValue<long>());
            var duration = info["duration_ms"]!.GetValue<long>();
            // The clip is MP3, as the contract says, and decodes to exactly the window it states.
            Assert.Equal(duration * 16, Mp3Samples(clip));
            covered += duration;
        }
        Assert.Equal(4000, covered);
    }

    [Fact]
    public void Pii_AClipKeepsAtMostTheLast60Seconds()
    {
        using var analyzer = Create("velma-2-pii-phi-redaction-streaming", "audio_format=s16le&sample_rate=8000&num_channels=1");
        var audio = TestSignals.Encode(TestSignals.Bursts(8_000, 67.0, [(65.0, 66.0)]), TestSignals.Format("s16le"));
        var events = new List<StreamEvent>();
        foreach (var chunk in TestSignals.Chunks(audio, 1600))
        {
            analyzer.Append(chunk.Span, events);
        }
        analyzer.Complete(events);

        var info = events[0].Json!["redacted_audio"]!;
        var start = info["start_ms"]!.GetValue<long>();
        var duration = info["duration_ms"]!.GetValue<long>();
        Assert.InRange(start, 6_000, 6_600);
        Assert.InRange(start + duration, 65_900, 66_100);
        Assert.Equal(duration * 8, Mp3Samples(events[1].Binary));
        Assert.Equal(start + duration, events[2].Json!["trailing_redacted_audio"]!["start_ms"]!.GetValue<long>());
    }

    [Fact]
    public void Velma_EndsWithTheDefaultPicks_ThenDone()
    {
        var settings = Settings("velma-2-streaming", "audio_format=s16le&sample_rate=16000&num_channels=1");
        Assert.True(settings.TryApplyConfig("""{"behaviors": ["preset:complaints"], "produce_summary": false}""", out _));
        using var analyzer = ReferenceStreaming.Create(settings);
        var events = new List<StreamEvent>();

        analyzer.Append(TestSignals.Encode(TestSignals.Bursts(16_000, 3.0, Bursts), TestSignals.Format("s16le")), events);
        analyzer.Complete(events);

        Assert.Equal(["clip", "clip", "conversation_type", "participant_role", "behavior_detection", "topics", "done"],
            events.Select(e => e.Json!["type"]!.GetValue<string>()));
        Assert.Equal("default", events[2].Json!["pick"]!["selection_source"]!.GetValue<string>());
        Assert.False(events[4].Json!["detection"]!["detected"]!.GetValue<bool>());
    }

    [Fact]
    public void CompressedStream_WithNoBytes_IsDoneAtZero()
    {
        using var analyzer = Create("velma-2-ai-music-detection-streaming", "audio_format=ogg");
        var events = new List<StreamEvent>();

        Assert.True(analyzer.Complete(events).Succeeded);
        Assert.Equal(0, Last(events)["duration_ms"]!.GetValue<long>());
        Assert.Equal("not-ai-music", Last(events)["primary_verdict"]!.GetValue<string>());
    }

    private static int Mp3Samples(ReadOnlyMemory<byte> clip)
    {
        var decoded = Codecs.EncodedAudio.Decode(clip.ToArray());
        Assert.Equal(Codecs.DecoderStatus.Decoding, decoded.Decoder.Status);
        return decoded.Samples.Length;
    }

    private static IStreamAnalyzer Create(string model, string query) => ReferenceStreaming.Create(Settings(model, query));

    internal static StreamSettings Settings(string model, string query)
    {
        var parameters = query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
        Assert.True(StreamSettings.TryParse(ModelCatalog.Get(model), parameters, out var settings, out var error), error);
        return settings!;
    }

    private static JsonObject Last(List<StreamEvent> events) => events.Last(e => e.Json is not null).Json!;

    private static List<JsonObject> Messages(List<StreamEvent> events, string type) =>
        events.Where(e => e.Json?["type"]?.GetValue<string>() == type).Select(e => e.Json!).ToList();
}
