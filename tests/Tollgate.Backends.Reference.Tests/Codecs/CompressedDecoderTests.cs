using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Codecs;

public sealed class CompressedDecoderTests
{
    private const int Rate = 16_000;
    private static readonly float[] Signal = TestSignals.Bursts(Rate, 4.0, [(0.5, 1.5), (2.0, 2.8)], noise: 0.01f);
    private static readonly byte[] Wav = TestSignals.Wav(Signal, Rate);

    public static TheoryData<string> Formats => [.. EncodedAudio.Formats.Keys];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Decode_SamplesLineUpWithTheEncodedAudio(string format)
    {
        var decoded = EncodedAudio.Decode(EncodedAudio.Encode(Wav, format), 1000, 7, 4096);

        Assert.True(decoded.Decoder.Status == DecoderStatus.Decoding, decoded.Decoder.Problem);
        Assert.Equal(format == "opus" ? 48_000 : Rate, decoded.SampleRate);
        var factor = decoded.SampleRate / Rate;
        // Priming and padding are trimmed: exactly as many samples as were encoded, and no offset beyond the
        // encoder's resampling (Opus encodes 16 kHz audio at 48 kHz).
        Assert.Equal(Signal.Length * factor, decoded.Samples.Length);
        var (lag, correlation) = BestLag(Signal, decoded.Samples, factor);
        Assert.InRange(lag, -2, 2);
        Assert.True(correlation > 0.95, $"{format}: correlation {correlation:F3}");
    }

    [Theory]
    [InlineData("webm-opus")]
    [InlineData("webm-vorbis")]
    public void Webm_SamplesLineUpWithTheEncodedAudio(string format)
    {
        var decoded = EncodedAudio.Decode(EncodedAudio.Encode(Wav, format), 1000, 7, 4096);

        Assert.True(decoded.Decoder.Status == DecoderStatus.Decoding, decoded.Decoder.Problem);
        var factor = decoded.SampleRate / Rate;
        // Opus: the pre-skip and the last block's DiscardPadding trim it exactly. Vorbis in Matroska has no final
        // granule position, so its last packet keeps its padding (at most one long block).
        var expected = Signal.Length * factor;
        Assert.InRange(decoded.Samples.Length, expected, format == "webm-opus" ? expected : expected + 2048);
        var (lag, correlation) = BestLag(Signal, decoded.Samples, factor);
        Assert.InRange(lag, -2, 2);
        Assert.True(correlation > 0.95, $"{format}: correlation {correlation:F3}");
        Assert.Equal(decoded.Samples, EncodedAudio.Decode(EncodedAudio.Encode(Wav, format), 1).Samples);
    }

    [Theory]
    [InlineData("webm-opus")]
    [InlineData("webm-vorbis")]
    public void Webm_GarbageInTheMiddle_IsCorrupt(string format)
    {
        var bytes = (byte[])EncodedAudio.Encode(Wav, format).Clone();
        new Random(3).NextBytes(bytes.AsSpan(bytes.Length / 3, bytes.Length / 3));

        Assert.Equal(DecoderStatus.Corrupt, EncodedAudio.Decode(bytes, 4096).Decoder.Status);
    }

    [Fact]
    public void Webm_RandomDamage_NeverThrows()
    {
        var source = EncodedAudio.Encode(Wav, "webm-opus");
        var random = new Random(13);
        for (var round = 0; round < 40; round++)
        {
            var bytes = (byte[])source.Clone();
            for (var i = 0; i < 1 + round; i++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }
            EncodedAudio.Decode(bytes[..random.Next(1, bytes.Length)], 1 + random.Next(9000));
        }
    }

    public static TheoryData<string, int, int, string> FlacVariants => new()
    {
        { "s16le", 16_000, 1, "-compression_level 0" },
        { "s16le", 16_000, 1, "-compression_level 5" },
        { "s16le", 44_100, 2, "-compression_level 8 -ch_mode left_side" },
        { "s16le", 44_100, 2, "-compression_level 8 -ch_mode right_side" },
        { "s16le", 48_000, 2, "-compression_level 12 -ch_mode mid_side -exact_rice_parameters 1" },
        { "s16le", 8_000, 2, "-compression_level 3 -ch_mode indep -frame_size 1152" },
        { "s24le", 96_000, 2, "-compression_level 8 -lpc_type cholesky -lpc_passes 3" },
        { "u8", 11_025, 1, "-compression_level 2" },
        { "s16le", 22_050, 1, "-lpc_type none" },
    };

    [Theory]
    [MemberData(nameof(FlacVariants))]
    public void Flac_IsBitExact_AndItsMd5Matches(string layout, int rate, int channels, string options)
    {
        // Different content on each channel, so the encoder's stereo decorrelation has something to do.
        var left = TestSignals.Bursts(rate, 2.5, [(0.2, 1.1), (1.5, 2.3)], noise: 0.05f);
        var right = TestSignals.Bursts(rate, 2.5, [(0.6, 1.9)], noise: 0.2f);
        var pcm = TestSignals.Interleave(channels == 1 ? [left] : [left, right], TestSignals.Format(layout));
        var wav = TestSignals.WavOf(pcm, TestSignals.Format(layout), rate, channels);
        var expected = new PcmSamples();
        new PcmDecoder(new PcmFormat(TestSignals.Format(layout), rate, channels)).Decode(pcm, expected);

        foreach (var container in new[] { "flac", "ogg-flac" })
        {
            var decoded = EncodedAudio.Decode(EncodedAudio.Encode(wav, container, options.Split(' ')), 333, 8192);

            Assert.True(decoded.Decoder.Status == DecoderStatus.Decoding, decoded.Decoder.Problem);
            Assert.Equal(expected.Samples, decoded.Samples);
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Decode_ChunkSizes_DoNotChangeTheSamples(string format)
    {
        var bytes = EncodedAudio.Encode(Wav, format);

        var whole = EncodedAudio.Decode(bytes, bytes.Length);
        var bytewise = EncodedAudio.Decode(bytes, 1);

        Assert.Equal(whole.Samples, bytewise.Samples);
    }

    [Theory]
    [InlineData("vorbis")]
    [InlineData("opus")]
    [InlineData("flac")]
    [InlineData("ogg-flac")]
    public void Decode_OneDamagedByte_IsCorrupt(string format)
    {
        var bytes = (byte[])EncodedAudio.Encode(Wav, format).Clone();
        bytes[bytes.Length / 2] ^= 0x5A;

        var decoded = EncodedAudio.Decode(bytes, 4096);

        Assert.Equal(DecoderStatus.Corrupt, decoded.Decoder.Status);
        Assert.NotNull(decoded.Decoder.Problem);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Decode_GarbageInTheMiddle_IsCorrupt(string format)
    {
        var bytes = (byte[])EncodedAudio.Encode(Wav, format).Clone();
        new Random(3).NextBytes(bytes.AsSpan(bytes.Length / 3, bytes.Length / 3));

        var decoded = EncodedAudio.Decode(bytes, 4096);

        Assert.Equal(DecoderStatus.Corrupt, decoded.Decoder.Status);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Decode_RandomDamage_NeverThrows(string format)
    {
        var source = EncodedAudio.Encode(Wav, format);
        var random = new Random(11);
        for (var round = 0; round < 40; round++)
        {
            var bytes = (byte[])source.Clone();
            for (var i = 0; i < 1 + round; i++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }
            var decoded = EncodedAudio.Decode(bytes[..random.Next(1, bytes.Length)], 1 + random.Next(9000));

            Assert.True(decoded.Decoder.Status != DecoderStatus.Headers || decoded.Samples.Length == 0);
        }
    }

    [Theory]
    [InlineData(new byte[] { (byte)'I', (byte)'D', (byte)'3', 4, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F })]
    [InlineData(new byte[] { (byte)'O', (byte)'g', (byte)'g', (byte)'S', 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255 })]
    [InlineData(new byte[] { (byte)'f', (byte)'L', (byte)'a', (byte)'C', 0, 0, 0, 34, 0, 16, 0, 16 })]
    public void Decode_HeadersThatPromiseMore_EndWithoutAudio(byte[] head)
    {
        // A 256 MB ID3 tag, a page of 255 full segments, a STREAMINFO cut short: nothing is allocated for what is claimed.
        var decoded = EncodedAudio.Decode([.. head, .. new byte[5000]], 100);

        Assert.NotEqual(DecoderStatus.Decoding, decoded.Decoder.Status);
        Assert.Empty(decoded.Samples);
    }

    [Fact]
    public void Mp3_WithoutALameTag_KeepsEveryDecodedSample()
    {
        var bytes = EncodedAudio.Encode(Wav, "mp3", "-write_xing", "0");

        var decoded = EncodedAudio.Decode(bytes);

        Assert.True(decoded.Decoder.Status == DecoderStatus.Decoding, decoded.Decoder.Problem);
        Assert.Equal(0, decoded.Samples.Length % 576);
        Assert.InRange(decoded.Samples.Length, Signal.Length, Signal.Length + 576 * 4);
    }

    /// <summary>
    /// A full-scale square wave: lossy codecs ring past full scale around its edges (fuzzing found damaged MP3 frames
    /// decoding to ±1.07). What the decoders deliver is still in [-1, 1], as the sinks and the 16-bit re-encoding expect.
    /// </summary>
    [Theory]
    [InlineData("mp3")]
    [InlineData("vorbis")]
    [InlineData("opus")]
    [InlineData("webm-vorbis")]
    public void FullScaleSquareWave_DecodesWithinFullScale(string format)
    {
        var square = new float[Rate];
        for (var i = 0; i < square.Length; i++)
        {
            square[i] = i / 20 % 2 == 0 ? 1f : -1f;
        }
        var decoded = EncodedAudio.Decode(EncodedAudio.Encode(TestSignals.Wav(square, Rate), format), 4096);

        Assert.True(decoded.Decoder.Status == DecoderStatus.Decoding, decoded.Decoder.Problem);
        Assert.NotEmpty(decoded.Samples);
        Assert.All(decoded.Samples, s => Assert.InRange(s, -1f, 1f));
        Assert.Contains(decoded.Samples, s => Math.Abs(s) > 0.99f); // it is loud: the clip is what holds it in
    }

    /// <summary>The offset of <paramref name="decoded"/> against <paramref name="source"/> (at <paramref name="factor"/> times its rate) and the normalised correlation there.</summary>
    private static (int Lag, double Correlation) BestLag(float[] source, float[] decoded, int factor)
    {
        var best = (Lag: 0, Correlation: double.MinValue);
        for (var lag = -40; lag <= 40; lag++)
        {
            double sum = 0, a = 0, b = 0;
            for (var i = 0; i < source.Length; i++)
            {
                var j = (long)i * factor + lag;
                if (j >= 0 && j < decoded.Length)
                {
                    sum += source[i] * decoded[j];
                    a += source[i] * source[i];
                    b += decoded[j] * (double)decoded[j];
                }
            }
            var correlation = sum / Math.Sqrt(a * b);
            if (correlation > best.Correlation)
            {
                best = (lag, correlation);
            }
        }
        return best;
    }

    private sealed class PcmSamples : IMonoSink
    {
        private readonly List<float> _samples = [];

        public float[] Samples => [.. _samples];

        public void Write(ReadOnlySpan<float> samples)
        {
            foreach (var s in samples)
            {
                _samples.Add(s);
            }
        }
    }
}
