using System.Text.Json.Nodes;
using Tollgate.Audio;
using Tollgate.Models;

namespace Tollgate.Backends.Reference.Codecs;

/// <summary>
/// One recording, encoded by ffmpeg as WAV, MP3, Ogg Vorbis, Opus and FLAC, must be heard the same in every container:
/// the same segments within one 10 ms analysis frame (the decoders remove the codecs' priming and padding, so there
/// is no offset to allow for), in batch and in streaming.
/// </summary>
public sealed class AnyContainerTests
{
    private const int Rate = 16_000;
    private const long FrameMs = 10;
    private static readonly (double, double)[] Utterances = [(0.40, 1.90), (2.50, 3.20), (3.80, 6.10), (6.90, 7.35)];
    private static readonly byte[] Wav = TestSignals.Wav(TestSignals.Speech(Rate, 8.0, Utterances), Rate);

    public static TheoryData<string> Compressed => ["mp3", "vorbis", "opus", "flac", "ogg-flac", "webm-opus", "webm-vorbis"];

    [Theory]
    [MemberData(nameof(Compressed))]
    public void Batch_SegmentsAreTheWavsWithinOneFrame(string format)
    {
        var expected = BatchUtterances(Wav);
        Assert.Equal(Utterances.Length, expected.Count);

        var actual = BatchUtterances(EncodedAudio.Encode(Wav, format));

        AssertSameSegments(expected, actual, format);
    }

    [Theory]
    [MemberData(nameof(Compressed))]
    public void Batch_SyntheticVoiceFramesAreTheWavs(string format)
    {
        const string model = "velma-2-synthetic-voice-detection-batch";
        var expected = Frames(Batch(model, Wav));

        var actual = Frames(Batch(model, EncodedAudio.Encode(Wav, format)));

        // Vorbis in WebM has no final granule position: its last packet's padding (here 16 ms) stays, and the probed
        // duration, from the container's own timestamps, includes it. Every frame over the WAV's 8 s is the WAV's.
        Assert.Equal(expected, format == "webm-vorbis" ? actual.Where(f => f.Item1 < 8000).ToList() : actual);
    }

    [Theory]
    [InlineData("velma-2-stt-batch")]
    [InlineData("velma-2-pii-phi-redaction-batch")]
    [InlineData("velma-2-batch")]
    [InlineData("velma-2-synthetic-voice-detection-batch")]
    [InlineData("velma-2-music-detection-batch")]
    [InlineData("velma-2-ai-music-detection-batch")]
    public void Batch_Flac_AnswersExactlyAsTheWav(string model)
    {
        // FLAC is lossless and decoded bit-exactly: every signal, music heuristics included, is the WAV's.
        var expected = Batch(model, Wav);

        foreach (var format in new[] { "flac", "ogg-flac" })
        {
            var actual = Batch(model, EncodedAudio.Encode(Wav, format));
            Assert.Equal(Stable(expected), Stable(actual));
        }
    }

    [Theory]
    [InlineData("mp3", "mp3")]
    [InlineData("vorbis", "ogg")]
    [InlineData("opus", "ogg")]
    [InlineData("flac", "flac")]
    [InlineData("ogg-flac", "ogg")]
    [InlineData("webm-opus", "webm")]
    [InlineData("mp3", null)]
    [InlineData("opus", null)]
    [InlineData("flac", null)]
    public void Streaming_UtterancesAreTheWavsWithinOneFrame_AndTheDurationIsExact(string format, string? declared)
    {
        var (expected, expectedMs) = StreamUtterances(Wav, "wav");

        var (actual, actualMs) = StreamUtterances(EncodedAudio.Encode(Wav, format), declared);

        Assert.Equal(Utterances.Length, expected.Count);
        AssertSameSegments(expected, actual, format);
        Assert.Equal(expectedMs, actualMs);
    }

    [Fact]
    public void Streaming_WebmVorbis_UtterancesAreTheWavsWithinOneFrame()
    {
        var (expected, expectedMs) = StreamUtterances(Wav, "wav");

        var (actual, actualMs) = StreamUtterances(EncodedAudio.Encode(Wav, "webm-vorbis"), "webm");

        AssertSameSegments(expected, actual, "webm-vorbis");
        // No final granule in Matroska: the last Vorbis packet keeps its padding (at most one 2048-sample block).
        Assert.InRange(actualMs, expectedMs, expectedMs + 128);
    }

    [Theory]
    [InlineData("mp3", "mp3")]
    [InlineData("opus", "ogg")]
    [InlineData("flac", "flac")]
    public void Streaming_DurationGrowsAsTheAudioArrives(string format, string declared)
    {
        var bytes = EncodedAudio.Encode(Wav, format);
        using var analyzer = ReferenceStreaming.Create(StreamAnalyzerTests.Settings("velma-2-stt-streaming", "audio_format=" + declared));
        var events = new List<StreamEvent>();
        long previous = 0;
        var sent = 0;
        foreach (var chunk in TestSignals.Chunks(bytes, 4096))
        {
            analyzer.Append(chunk.Span, events);
            sent += chunk.Length;
            Assert.InRange(analyzer.DurationMs, previous, 8000);
            previous = analyzer.DurationMs;
            if (sent >= bytes.Length / 2 && sent - chunk.Length < bytes.Length / 2)
            {
                // Metered as it arrives, not only at the end.
                Assert.InRange(analyzer.DurationMs, 2500, 5500);
            }
        }
        Assert.True(analyzer.Complete(events).Succeeded);
        Assert.Equal(8000, analyzer.DurationMs);
    }

    [Theory]
    [InlineData("mp3", "mp3")]
    [InlineData("vorbis", "ogg")]
    [InlineData("flac", "flac")]
    public void Batch_DamagedData_CouldNotBeProcessed(string format, string _)
    {
        var bytes = (byte[])EncodedAudio.Encode(Wav, format).Clone();
        new Random(1).NextBytes(bytes.AsSpan(bytes.Length / 3, bytes.Length / 3));
        var info = Probe(bytes);

        Assert.False(ReferenceBatch.TryAnalyze(ModelCatalog.Get("velma-2-stt-batch"), info, new MemoryStream(bytes), "x", Options("velma-2-stt-batch"),
            out var body, out var problem));
        Assert.Null(body);
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Theory]
    [InlineData("velma-2-stt-streaming", "mp3", "mp3", 1003, "Invalid input audio")]
    [InlineData("velma-2-synthetic-voice-detection-streaming", "vorbis", "ogg", 4002, "The audio could not be processed. It may be corrupted or in an unsupported format.")]
    [InlineData("velma-2-music-detection-streaming", "flac", "flac", 4002, "Audio data does not match the declared audio_format.")]
    public void Streaming_DamagedData_FailsWithTheChannelsText(string model, string format, string declared, int closeCode, string error)
    {
        var bytes = (byte[])EncodedAudio.Encode(Wav, format).Clone();
        new Random(2).NextBytes(bytes.AsSpan(bytes.Length / 3, bytes.Length / 3));
        using var analyzer = ReferenceStreaming.Create(StreamAnalyzerTests.Settings(model, "audio_format=" + declared));
        var events = new List<StreamEvent>();
        foreach (var chunk in TestSignals.Chunks(bytes, 2048))
        {
            analyzer.Append(chunk.Span, events);
        }

        Assert.Equal(new StreamOutcome(false, closeCode, error), analyzer.Failure);
        Assert.Equal(analyzer.Failure, analyzer.Complete([]));
    }

    [Theory]
    [InlineData("vorbis", "mp3")]
    [InlineData("mp3", "flac")]
    [InlineData("flac", "ogg")]
    public void Streaming_AnotherContainerThanDeclared_DoesNotMatch(string format, string declared)
    {
        using var analyzer = ReferenceStreaming.Create(StreamAnalyzerTests.Settings("velma-2-stt-streaming-english-v2", "audio_format=" + declared));

        analyzer.Append(EncodedAudio.Encode(Wav, format), []);

        Assert.Equal(new StreamOutcome(false, 4002, "Audio data does not match the declared audio_format."), analyzer.Failure);
    }

    [Fact]
    public void Streaming_NoDecoderForTheFormat_IsStillProbedAtTheEnd()
    {
        var aac = EncodedAudio.Encode(Wav, ["-c:a", "aac", "-f", "adts"]);
        using var analyzer = ReferenceStreaming.Create(StreamAnalyzerTests.Settings("velma-2-stt-streaming", "audio_format=aac"));
        var events = new List<StreamEvent>();
        analyzer.Append(aac, events);

        Assert.Equal(0, analyzer.DurationMs);
        Assert.True(analyzer.Complete(events).Succeeded);
        var utterance = Assert.Single(events, e => e.Json?["type"]?.GetValue<string>() == "utterance");
        Assert.InRange(utterance.Json!["utterance"]!["duration_ms"]!.GetValue<long>(), 7950, 8150);
    }

    private static void AssertSameSegments(List<(long Start, long End)> expected, List<(long Start, long End)> actual, string format)
    {
        Assert.True(expected.Count == actual.Count, $"{format}: {Show(actual)} vs the WAV's {Show(expected)}");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(Math.Abs(expected[i].Start - actual[i].Start) <= FrameMs && Math.Abs(expected[i].End - actual[i].End) <= FrameMs,
                $"{format}: {Show(actual)} vs the WAV's {Show(expected)}");
        }
    }

    private static string Show(List<(long Start, long End)> segments) => string.Join(", ", segments.Select(s => $"[{s.Start}, {s.End})"));

    private static List<(long, long)> BatchUtterances(byte[] bytes) =>
        [.. Batch("velma-2-stt-batch", bytes)["utterances"]!.AsArray()
            .Select(u => (u!["start_ms"]!.GetValue<long>(), u["start_ms"]!.GetValue<long>() + u["duration_ms"]!.GetValue<long>()))];

    private static List<(long, long, string)> Frames(JsonObject body) =>
        [.. body["frames"]!.AsArray().Select(f => (f!["start_time_ms"]!.GetValue<long>(), f["end_time_ms"]!.GetValue<long>(), f["verdict"]!.GetValue<string>()))];

    private static (List<(long, long)> Utterances, long DurationMs) StreamUtterances(byte[] bytes, string? declared)
    {
        using var analyzer = ReferenceStreaming.Create(StreamAnalyzerTests.Settings("velma-2-stt-streaming", declared is null ? "" : "audio_format=" + declared));
        var events = new List<StreamEvent>();
        foreach (var chunk in TestSignals.Chunks(bytes, 997, 4096, 13))
        {
            analyzer.Append(chunk.Span, events);
        }
        var outcome = analyzer.Complete(events);
        Assert.True(outcome.Succeeded, outcome.Error);
        var utterances = events.Where(e => e.Json?["type"]?.GetValue<string>() == "utterance").Select(e => e.Json!["utterance"]!)
            .Select(u => (u["start_ms"]!.GetValue<long>(), u["start_ms"]!.GetValue<long>() + u["duration_ms"]!.GetValue<long>())).ToList();
        return (utterances, events.Last(e => e.Json is not null).Json!["duration_ms"]!.GetValue<long>());
    }

    private static JsonObject Batch(string model, byte[] bytes)
    {
        Assert.True(ReferenceBatch.TryAnalyze(ModelCatalog.Get(model), Probe(bytes), new MemoryStream(bytes), "call", Options(model), out var body, out var problem), problem);
        return body;
    }

    private static AudioInfo Probe(byte[] bytes)
    {
        var probe = AudioProbe.Probe(new MemoryStream(bytes));
        Assert.True(probe.Success, probe.Detail);
        return probe.Info;
    }

    /// <summary>The answer without what is new on every call (latency, UUIDs) rather than heard in the audio.</summary>
    private static string Stable(JsonObject body)
    {
        var copy = body.DeepClone();
        Strip(copy);
        return copy.ToJsonString();
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).Where(k => k == "latency_ms" || k.EndsWith("_uuid", StringComparison.Ordinal)).ToList())
                {
                    o.Remove(key);
                }
                foreach (var (_, value) in o)
                {
                    Strip(value);
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    Strip(item);
                }
                break;
        }
    }

    private static BatchOptions Options(string model)
    {
        Assert.True(BatchOptions.TryParse(ModelCatalog.Get(model), new Dictionary<string, string>(), out var options, out var error), error?.Detail);
        return options!;
    }
}
