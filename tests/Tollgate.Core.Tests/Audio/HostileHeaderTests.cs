using System.Buffers.Binary;
using Tollgate.Audio.Probes;

namespace Tollgate.Audio;

/// <summary>
/// Regression tests for what fuzzing the probes found (docs/reliability.md): declared counts multiplied unchecked
/// into a negative duration, and rates from a file's float or uint that became int.MinValue.
/// </summary>
public sealed class HostileHeaderTests
{
    private static ProbeResult Probe(byte[] bytes) => AudioProbe.Probe(new MemoryStream(bytes));

    [Fact]
    public void OggLastGranuleNearTheTopOfALong_IsCorrupt_NotANegativeDuration()
    {
        var opus = GeneratedAudio.Get("a.opus", 0.5, 48000, 1, "-c:a", "libopus").ToArray();
        SetLastGranule(opus, 0x7FFF_FFFF_FFFF_FF00);
        var result = Probe(opus);
        Assert.Equal(ProbeError.Corrupt, result.Error);
    }

    [Fact]
    public void OggGranuleWhoseProductWithAThousandOverflows_IsStillMeasuredExactly()
    {
        // 2^54 samples: granule × 1000 passes long.MaxValue (it wrapped before), but 2^54 / 48 = 3.75e14 ms is under the
        // ceiling: an absurd but representable answer, computed exactly (the quota refuses it, in shape).
        var opus = GeneratedAudio.Get("a.opus", 0.5, 48000, 1, "-c:a", "libopus").ToArray();
        var preSkip = BinaryPrimitives.ReadUInt16LittleEndian(opus.AsSpan(opus.AsSpan().IndexOf("OpusHead"u8) + 10));
        const long granule = 1L << 54;
        SetLastGranule(opus, granule);
        var result = Probe(opus);
        Assert.True(result.Success, result.Detail);
        Assert.Equal((long)((Int128)(granule - preSkip) * 1000 / 48000), result.Info.DurationMs);
    }

    [Fact]
    public void Rf64WithASampleCountOfTwoToTheSixtySecond_IsCorrupt()
    {
        var wav = GeneratedAudio.Get("rf64.wav", 0.5, 16000, 1, "-c:a", "pcm_s16le", "-rf64", "always").ToArray();
        var ds64 = wav.AsSpan().IndexOf("ds64"u8);
        var fmt = wav.AsSpan().IndexOf("fmt "u8);
        Assert.True(ds64 > 0 && fmt > 0);
        BinaryPrimitives.WriteInt64LittleEndian(wav.AsSpan(ds64 + 8 + 16), 1L << 62); // ds64: riff size, data size, sample count
        BinaryPrimitives.WriteUInt16LittleEndian(wav.AsSpan(fmt + 8), 2); // not PCM: the sample count is believed
        Assert.Equal(ProbeError.Corrupt, Probe(wav).Error);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-48000.0)]
    [InlineData(1e300)]
    [InlineData(0.0)]
    public void MatroskaSamplingFrequencyThatIsNoRate_IsCorrupt(double frequency)
    {
        var webm = GeneratedAudio.Get("a.webm", 0.5, 48000, 1, "-c:a", "libopus").ToArray();
        var element = webm.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xB5, 0x88]);
        Assert.True(element > 0);
        BinaryPrimitives.WriteDoubleBigEndian(webm.AsSpan(element + 2), frequency);
        Assert.Equal(ProbeError.Corrupt, Probe(webm).Error);
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1e300)]
    public void MatroskaDurationBeyondAnyFile_IsCorrupt(double duration)
    {
        var webm = GeneratedAudio.Get("a.webm", 0.5, 48000, 1, "-c:a", "libopus").ToArray();
        var element = webm.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x44, 0x89, 0x88]);
        Assert.True(element > 0);
        BinaryPrimitives.WriteDoubleBigEndian(webm.AsSpan(element + 3), duration);
        Assert.Equal(ProbeError.Corrupt, Probe(webm).Error);
    }

    [Fact]
    public void Mp4FragmentRunsWhoseDurationsOverflow_AreCorrupt()
    {
        // One run of 2^32 - 1 samples of 2^31 ticks: 9.2e18 ticks, whose product with 1000 wrapped.
        Assert.Equal(ProbeError.Corrupt, Probe(FragmentedMp4(0x8000_0000, 0xFFFF_FFFF)).Error);
        // Two runs of 2^32 - 1 samples of 2^32 - 1 ticks: each nearly 2^64, more than a long holds.
        Assert.Equal(ProbeError.Corrupt, Probe(FragmentedMp4(0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF)).Error);
        // A plausible one is still measured: 100 samples of 1024 ticks at 44.1 kHz.
        var plausible = Probe(FragmentedMp4(1024, 100));
        Assert.True(plausible.Success, plausible.Detail);
        Assert.Equal(100 * 1024 * 1000L / 44100, plausible.Info.DurationMs);
    }

    [Fact]
    public void AsfSampleRateAboveIntMaxValue_IsCorrupt()
    {
        var wma = GeneratedAudio.Get("a.wma", 0.5, 8000, 1, "-c:a", "wmav2", "-b:a", "32k").ToArray();
        ReadOnlySpan<byte> streamProperties = [0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11, 0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65];
        var stream = wma.AsSpan().IndexOf(streamProperties);
        Assert.True(stream > 0);
        Assert.True(Probe(wma).Success);
        BinaryPrimitives.WriteUInt32LittleEndian(wma.AsSpan(stream + 82), 0xFFFF_FFFF);
        Assert.Equal(ProbeError.Corrupt, Probe(wma).Error);
    }

    [Fact]
    public void MatroskaCodecIdOfNuls_IsAnUnknownCodec_NotAnEmptyName()
    {
        var webm = GeneratedAudio.Get("a.webm", 0.5, 48000, 1, "-c:a", "libopus").ToArray();
        var codec = webm.AsSpan().IndexOf("A_OPUS"u8);
        Assert.True(codec > 0);
        webm.AsSpan(codec, 6).Clear();
        var result = Probe(webm);
        Assert.True(result.Success, result.Detail);
        Assert.Equal("unknown", result.Info.Codec);
    }

    [Fact]
    public void Mp4SampleEntryOfSpaces_IsAnUnknownCodec_NotAnEmptyName()
    {
        var m4a = GeneratedAudio.Get("a.m4a", 0.5, 8000, 1, "-c:a", "aac").ToArray();
        var entry = m4a.AsSpan().IndexOf("mp4a"u8);
        Assert.True(entry > 0);
        "    "u8.CopyTo(m4a.AsSpan(entry));
        var result = Probe(m4a);
        Assert.True(result.Success, result.Detail);
        Assert.Equal("unknown", result.Info.Codec);
    }

    [Theory]
    [InlineData(0L, 48000L, 0L)]
    [InlineData(47999L, 48000L, 999L)]
    [InlineData(48000L, 48000L, 1000L)]
    [InlineData(long.MaxValue / 1000 * 3, 3000L, long.MaxValue / 1000)]
    [InlineData(long.MaxValue - 7, 44100L, null)]
    [InlineData(long.MaxValue / 1000 * 3 + 3, 3000L, null)]
    public void ProbeMath_IsExactWhereTheNaiveProductOverflows_AndRefusesPastTheCeiling(long units, long perSecond, long? expected)
    {
        if (expected is null)
        {
            Assert.Throws<ProbeException>(() => ProbeMath.Milliseconds(units, perSecond));
        }
        else
        {
            Assert.Equal(expected, ProbeMath.Milliseconds(units, perSecond));
            Assert.Equal((long)((Int128)units * 1000 / perSecond), ProbeMath.Milliseconds(units, perSecond));
        }
    }

    [Fact]
    public void ProbeMath_RefusesNegativeCountsAndRates()
    {
        Assert.Throws<ProbeException>(() => ProbeMath.Milliseconds(-1, 8000));
        Assert.Throws<ProbeException>(() => ProbeMath.Milliseconds(1, 0));
        Assert.Throws<ProbeException>(() => ProbeMath.Milliseconds(double.NaN));
        Assert.Throws<ProbeException>(() => ProbeMath.Add(1, -1));
        Assert.Throws<OverflowException>(() => ProbeMath.Add(long.MaxValue, 1));
    }

    private static void SetLastGranule(byte[] ogg, long granule)
    {
        var last = ogg.AsSpan().LastIndexOf("OggS"u8);
        BinaryPrimitives.WriteInt64LittleEndian(ogg.AsSpan(last + 6), granule);
    }

    /// <summary>ftyp, a moov with one audio track (mdhd at 44.1 kHz, no duration), then a moof whose runs have <paramref name="counts"/> samples of <paramref name="sampleTicks"/>.</summary>
    private static byte[] FragmentedMp4(uint sampleTicks, params uint[] counts)
    {
        var mdhd = new byte[24];
        BinaryPrimitives.WriteUInt32BigEndian(mdhd.AsSpan(12), 44100);
        var hdlr = new byte[25];
        "soun"u8.CopyTo(hdlr.AsSpan(8));
        var tfhd = new byte[12];
        tfhd[3] = 0x08; // default-sample-duration-present
        BinaryPrimitives.WriteUInt32BigEndian(tfhd.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32BigEndian(tfhd.AsSpan(8), sampleTicks);
        var runs = counts.Select(count =>
        {
            var trun = new byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(trun.AsSpan(4), count);
            return Box("trun", trun);
        });
        return
        [
            .. Box("ftyp", [.. "M4A "u8, 0, 0, 0, 0]),
            .. Box("moov", Box("trak", Box("mdia", [.. Box("mdhd", mdhd), .. Box("hdlr", hdlr)]))),
            .. Box("moof", Box("traf", [.. Box("tfhd", tfhd), .. runs.SelectMany(r => r)])),
        ];
    }

    private static byte[] Box(string type, byte[] payload)
    {
        var box = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(box, (uint)box.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(box, 4);
        payload.CopyTo(box, 8);
        return box;
    }
}
