using Tollgate.Backends.Reference.Pcm;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference;

public sealed class SegmentationTests
{
    private static readonly (double, double)[] Bursts = [(0.5, 1.5), (2.0, 2.8), (4.0, 6.5)];

    public static TheoryData<string, int, int> Layouts => new()
    {
        { "s16le", 16_000, 1 },
        { "f32be", 44_100, 1 },
        { "mulaw", 8_000, 1 },
        { "s16le", 11_025, 2 },
        { "s24be", 48_000, 2 },
        { "u8", 22_050, 1 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Bursts_BecomeSegmentsAtTheirTimes(string format, int rate, int channels)
    {
        var bytes = TestSignals.Encode(TestSignals.Bursts(rate, 8.0, Bursts), TestSignals.Format(format), channels);

        var segments = Segment(bytes, format, rate, channels);

        Assert.Equal(Bursts.Length, segments.Count);
        for (var i = 0; i < Bursts.Length; i++)
        {
            Assert.InRange(segments[i].StartMs, Bursts[i].Item1 * 1000 - 100, Bursts[i].Item1 * 1000 + 100);
            Assert.InRange(segments[i].EndMs, Bursts[i].Item2 * 1000 - 100, Bursts[i].Item2 * 1000 + 100);
        }
    }

    [Fact]
    public void SteadyBackgroundNoise_IsNotSpeech()
    {
        var bytes = TestSignals.Encode(TestSignals.Bursts(16_000, 6.0, [(1.0, 2.0), (3.5, 5.0)], noise: 0.01f), TestSignals.Format("s16le"));

        var segments = Segment(bytes, "s16le", 16_000, 1);

        Assert.Equal(2, segments.Count);
        Assert.InRange(segments[0].StartMs, 900, 1100);
        Assert.InRange(segments[1].EndMs, 4900, 5100);
    }

    [Fact]
    public void Clicks_ShorterThan100Ms_AreDropped()
    {
        var bytes = TestSignals.Encode(TestSignals.Bursts(16_000, 3.0, [(0.5, 0.55), (1.5, 1.53)]), TestSignals.Format("s16le"));

        Assert.Empty(Segment(bytes, "s16le", 16_000, 1));
    }

    [Fact]
    public void ContinuousSound_IsSplitEvery30Seconds()
    {
        var bytes = TestSignals.Encode(TestSignals.Bursts(8_000, 70.0, [(0, 70)]), TestSignals.Format("s16le"));

        var segments = Segment(bytes, "s16le", 8_000, 1);

        Assert.Equal([new Segment(0, 30_000), new Segment(30_000, 60_000), new Segment(60_000, 70_000)], segments);
    }

    [Fact]
    public void Silence_HasNoSegments_AndAVoiceWindowPer4Seconds()
    {
        var collector = new Collector();
        var pipeline = new SignalPipeline(16_000, SignalFeatures.Segments | SignalFeatures.VoiceWindows, collector);
        pipeline.Write(new float[16_000 * 9]);
        pipeline.Finish();

        Assert.Empty(collector.Segments);
        Assert.Equal([new VoiceWindow(0, 4000, 0), new VoiceWindow(4000, 8000, 0), new VoiceWindow(8000, 9000, 0)], collector.Windows);
    }

    [Fact]
    public void MusicFrames_Cover192MsEach_AndAToneScoresAsMusic()
    {
        var collector = new Collector();
        var pipeline = new SignalPipeline(16_000, SignalFeatures.MusicFrames, collector);
        pipeline.Write(TestSignals.Bursts(16_000, 1.0, [(0, 1.0)]));
        pipeline.Finish();

        Assert.Equal(6, collector.Frames.Count);
        Assert.Equal((0, 192), (collector.Frames[0].StartMs, collector.Frames[0].EndMs));
        Assert.Equal((960, 1000), (collector.Frames[^1].StartMs, collector.Frames[^1].EndMs));
        Assert.All(collector.Frames.Take(5), f => Assert.True(f.IsMusic && !f.IsSpeech, f.ToString()));
    }

    [Fact]
    public void MusicFrames_OfNoise_AreNeitherMusicNorSpeech()
    {
        var collector = new Collector();
        var pipeline = new SignalPipeline(16_000, SignalFeatures.MusicFrames, collector);
        pipeline.Write(TestSignals.Bursts(16_000, 1.0, [], noise: 0.3f));
        pipeline.Finish();

        Assert.All(collector.Frames, f => Assert.False(f.IsMusic || f.IsSpeech, f.ToString()));
    }

    private static List<Segment> Segment(byte[] bytes, string format, int rate, int channels)
    {
        var collector = new Collector();
        var decoder = new PcmDecoder(new PcmFormat(TestSignals.Format(format), rate, channels));
        var pipeline = new SignalPipeline(rate, SignalFeatures.Segments, collector);
        foreach (var chunk in TestSignals.Chunks(bytes, 4093, 1, 17, 65_536))
        {
            decoder.Decode(chunk.Span, pipeline);
        }
        pipeline.Finish();
        return collector.Segments;
    }

    private sealed class Collector : ISignalListener
    {
        public List<Segment> Segments { get; } = [];

        public List<VoiceWindow> Windows { get; } = [];

        public List<MusicFrame> Frames { get; } = [];

        public void OnSegment(Segment segment) => Segments.Add(segment);

        public void OnVoiceWindow(VoiceWindow window) => Windows.Add(window);

        public void OnMusicFrame(MusicFrame frame) => Frames.Add(frame);
    }
}
