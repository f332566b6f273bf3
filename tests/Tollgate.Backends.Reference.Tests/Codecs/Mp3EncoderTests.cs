using System.Globalization;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Batch;
using Tollgate.Backends.Reference.Codecs.Mp3;

namespace Tollgate.Backends.Reference.Codecs;

public sealed class Mp3EncoderTests
{
    [Fact]
    public void Availability_LameIsInstalledHere()
    {
        // scripts/test.sh installs libmp3lame0; a machine without it gets the start-up warning this problem text is.
        var availability = Mp3Encoder.Availability;

        Assert.True(availability.Available, availability.Problem);
        Assert.StartsWith("3.", availability.Version);
    }

    [Theory]
    [InlineData(8_000, 1.0)]
    [InlineData(16_000, 2.37)]
    [InlineData(22_050, 0.5)]
    [InlineData(44_100, 3.0)]
    [InlineData(48_000, 1.25)]
    public void EncodeClip_DecodesToExactlyTheInputsLength(int rate, double seconds)
    {
        var input = TestSignals.Speech(rate, seconds, [(0.1, seconds - 0.1)]);
        var samples = input.Select(RedactedAudio.ToInt16).ToArray();

        var mp3 = Mp3Encoder.EncodeClip(samples, rate);

        // NLayer, trimming the LAME tag's delay and padding: sample for sample.
        var decoded = EncodedAudio.Decode(mp3);
        Assert.True(decoded.Decoder.Status == DecoderStatus.Decoding, decoded.Decoder.Problem);
        Assert.Equal(rate, decoded.SampleRate);
        Assert.Equal(samples.Length, decoded.Samples.Length);
        Assert.True(Correlation(input, decoded.Samples) > 0.9);
        // ffprobe sees mono MP3 at the rate, and ffmpeg's decoder, reading the same tag, gives the same length.
        Assert.Equal(("mp3", rate, 1), Ffprobe(mp3));
        Assert.Equal(samples.Length, FfmpegSamples(mp3));
        // And the probe the server meters with agrees.
        var probe = AudioProbe.Probe(new MemoryStream(mp3));
        Assert.Equal(AudioContainer.Mp3, probe.Info.Container);
        Assert.InRange(probe.Info.DurationMs, (long)(seconds * 1000) - 1, (long)(seconds * 1000) + 1);
    }

    [Fact]
    public void EncodeClip_OfARateMpegHasNot_IsResampled_AndKeepsItsDuration()
    {
        var samples = TestSignals.Speech(96_000, 1.5, [(0.2, 1.3)]).Select(RedactedAudio.ToInt16).ToArray();

        var mp3 = Mp3Encoder.EncodeClip(samples, 96_000);

        var decoded = EncodedAudio.Decode(mp3);
        Assert.Equal(1.5, (double)decoded.Samples.Length / decoded.SampleRate, 2);
    }

    [Fact]
    public void EncodeClip_Empty_IsAValidFileOfNoAudio()
    {
        var mp3 = Mp3Encoder.EncodeClip([], 16_000);

        var decoded = EncodedAudio.Decode(mp3);
        Assert.NotEqual(DecoderStatus.Corrupt, decoded.Decoder.Status);
        Assert.Empty(decoded.Samples);
    }

    [Theory]
    [InlineData("wav")]
    [InlineData("flac")]
    [InlineData("vorbis")]
    [InlineData("mp3")]
    public void RedactedAudio_IsTheUploadAsMp3_OfTheSameLength(string format)
    {
        var wav = TestSignals.Wav(TestSignals.Speech(16_000, 3.0, [(0.5, 2.5)]), 16_000);
        var upload = format == "wav" ? wav : EncodedAudio.Encode(wav, format);
        var info = AudioProbe.Probe(new MemoryStream(upload)).Info;
        using var output = new MemoryStream();

        Assert.True(RedactedAudio.TryWriteMp3(info, new MemoryStream(upload), output));

        var decoded = EncodedAudio.Decode(output.ToArray());
        Assert.Equal(16_000, decoded.SampleRate);
        Assert.Equal(48_000, decoded.Samples.Length);
        Assert.Equal(("mp3", 16_000, 1), Ffprobe(output.ToArray()));
        Assert.Equal(48_000, FfmpegSamples(output.ToArray()));
    }

    [Fact]
    public void RedactedAudio_OfAFormatWithNoDecoder_IsNotEncoded()
    {
        var aac = EncodedAudio.Encode(TestSignals.Wav(new float[16_000], 16_000), ["-c:a", "aac", "-f", "adts"]);
        var info = AudioProbe.Probe(new MemoryStream(aac)).Info;

        Assert.False(RedactedAudio.TryWriteMp3(info, new MemoryStream(aac), new MemoryStream()));
    }

    /// <summary>ffprobe's codec, rate and channels of the first audio stream.</summary>
    internal static (string Codec, int Rate, int Channels) Ffprobe(byte[] mp3) => WithFile(mp3, path =>
    {
        var fields = EncodedAudio.Run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,sample_rate,channels",
            "-of", "default=noprint_wrappers=1", path]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        return (fields["codec_name"], int.Parse(fields["sample_rate"], CultureInfo.InvariantCulture), int.Parse(fields["channels"], CultureInfo.InvariantCulture));
    });

    /// <summary>
    /// Samples ffmpeg decodes (its MP3 decoder trims the LAME tag's delay and padding; ffprobe's container duration
    /// would count them, as it reports frames times 576 or 1152).
    /// </summary>
    internal static int FfmpegSamples(byte[] mp3) => WithFile(mp3, path =>
    {
        var raw = Path.ChangeExtension(path, ".raw");
        EncodedAudio.Run("ffmpeg", ["-v", "error", "-y", "-i", path, "-f", "s16le", "-ac", "1", raw]);
        var length = new FileInfo(raw).Length;
        File.Delete(raw);
        return (int)(length / 2);
    });

    private static T WithFile<T>(byte[] bytes, Func<string, T> use)
    {
        var path = Path.Combine(Path.GetTempPath(), "tollgate-mp3-" + Guid.NewGuid().ToString("N") + ".mp3");
        File.WriteAllBytes(path, bytes);
        try
        {
            return use(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double Correlation(float[] a, float[] b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * (double)b[i];
        }
        return ab / Math.Sqrt(aa * bb);
    }
}
