using Tollgate.Audio;
using Tollgate.Dubbing;

namespace Tollgate.Backends.Reference.Dubbing;

public sealed class ReferenceDubRendererTests
{
    [Fact]
    public void TheReferenceRenderer_WritesAWavOfTheSameLength_NormalisedAndFaded()
    {
        var input = TestSignals.Wav(TestSignals.Bursts(16_000, 2.0, [(0, 2.0)]), 16_000, channels: 2);
        using var output = new MemoryStream();
        var frames = ReferenceDubRenderer.Render(new MemoryStream(input), output);
        Assert.Equal(32_000, frames);

        output.Position = 0;
        var probe = AudioProbe.Probe(output);
        Assert.True(probe.Success, probe.Detail);
        Assert.Equal((2000L, 1, 16_000), (probe.Info.DurationMs, probe.Info.Channels, probe.Info.SampleRate));
        var samples = output.ToArray().AsSpan(44);
        var values = new short[samples.Length / 2];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BitConverter.ToInt16(samples[(i * 2)..]);
        }
        var peak = values.Max(v => Math.Abs((int)v)) / 32768.0;
        Assert.InRange(peak, ReferenceDubRenderer.TargetPeak - 0.01, ReferenceDubRenderer.TargetPeak + 0.001);
        Assert.Equal(0, values[0]);
        Assert.True(Math.Abs((int)values[^1]) < 200, "the last sample is faded out");
    }

    [Fact]
    public void TheReferenceRenderer_RefusesCompressedInput_WithAnErrorCode()
    {
        var notPcm = new byte[1000];
        "fLaC"u8.CopyTo(notPcm);
        var error = Assert.Throws<DubRenderException>(() => ReferenceDubRenderer.Render(new MemoryStream(notPcm), new MemoryStream()));
        Assert.Equal(DubbingCodes.UnsupportedInput, error.Code);
    }
}
