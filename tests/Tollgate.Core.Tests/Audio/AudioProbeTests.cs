using System.Buffers.Binary;
using System.Text;

namespace Tollgate.Audio;

public sealed class AudioProbeTests
{
    private static ProbeResult Probe(byte[] bytes) => AudioProbe.Probe(new MemoryStream(bytes));

    /// <summary>(file name, seconds, rate, channels, ffmpeg arguments, container, codec, tolerance ms).</summary>
    public static TheoryData<string, double, int, int, string[], string, string, int> Formats => new()
    {
        { "s16.wav", 3.2, 44100, 1, ["-c:a", "pcm_s16le"], nameof(AudioContainer.Wav), "pcm_s16le", 1 },
        { "s24.wav", 2.5, 48000, 2, ["-c:a", "pcm_s24le"], nameof(AudioContainer.Wav), "pcm_s24le", 1 },
        { "f32.wav", 1.75, 8000, 1, ["-c:a", "pcm_f32le"], nameof(AudioContainer.Wav), "pcm_f32le", 1 },
        { "mulaw.wav", 2.0, 8000, 1, ["-c:a", "pcm_mulaw"], nameof(AudioContainer.Wav), "pcm_mulaw", 1 },
        { "rf64.wav", 2.0, 16000, 1, ["-c:a", "pcm_s16le", "-rf64", "always"], nameof(AudioContainer.Wav), "pcm_s16le", 1 },
        { "a.aiff", 3.0, 44100, 2, [], nameof(AudioContainer.Aiff), "pcm_s16be", 1 },
        { "a.au", 2.5, 16000, 1, [], nameof(AudioContainer.Au), "pcm_s16be", 1 },
        { "mulaw.au", 2.5, 8000, 1, ["-c:a", "pcm_mulaw"], nameof(AudioContainer.Au), "pcm_mulaw", 1 },
        { "a.flac", 4.1, 44100, 2, [], nameof(AudioContainer.Flac), "flac", 1 },
        { "cbr.mp3", 5.0, 44100, 2, ["-c:a", "libmp3lame", "-b:a", "128k"], nameof(AudioContainer.Mp3), "mp3", 60 },
        { "vbr.mp3", 5.0, 44100, 1, ["-c:a", "libmp3lame", "-q:a", "4"], nameof(AudioContainer.Mp3), "mp3", 60 },
        { "scan.mp3", 4.0, 22050, 1, ["-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0"], nameof(AudioContainer.Mp3), "mp3", 100 },
        { "tagged.mp3", 3.0, 44100, 2, ["-c:a", "libmp3lame", "-metadata", "title=Probe test", "-id3v2_version", "3"], nameof(AudioContainer.Mp3), "mp3", 60 },
        { "a.ogg", 3.3, 44100, 2, ["-c:a", "libvorbis"], nameof(AudioContainer.Ogg), "vorbis", 30 },
        { "a.opus", 3.3, 48000, 1, ["-c:a", "libopus"], nameof(AudioContainer.Ogg), "opus", 30 },
        { "opus.ogg", 2.0, 48000, 2, ["-c:a", "libopus"], nameof(AudioContainer.Ogg), "opus", 30 },
        { "flac.ogg", 2.5, 16000, 1, ["-c:a", "flac"], nameof(AudioContainer.Ogg), "flac", 30 },
        { "a.m4a", 4.0, 44100, 2, ["-c:a", "aac"], nameof(AudioContainer.Mp4), "aac", 60 },
        { "a.mp4", 3.0, 48000, 2, ["-c:a", "aac"], nameof(AudioContainer.Mp4), "aac", 60 },
        { "a.mov", 3.0, 44100, 1, ["-c:a", "aac"], nameof(AudioContainer.Mp4), "aac", 60 },
        { "a.3gp", 3.0, 8000, 1, ["-c:a", "aac", "-f", "3gp"], nameof(AudioContainer.Mp4), "aac", 200 },
        { "frag.mp4", 3.0, 44100, 1, ["-c:a", "aac", "-movflags", "frag_keyframe+empty_moov"], nameof(AudioContainer.Mp4), "aac", 60 },
        { "a.webm", 3.5, 48000, 2, ["-c:a", "libopus"], nameof(AudioContainer.Matroska), "opus", 30 },
        { "vorbis.mkv", 3.5, 44100, 1, ["-c:a", "libvorbis"], nameof(AudioContainer.Matroska), "vorbis", 30 },
        { "flac.mkv", 2.5, 44100, 1, ["-c:a", "flac"], nameof(AudioContainer.Matroska), "flac", 30 },
        { "a.aac", 4.0, 44100, 2, ["-c:a", "aac", "-f", "adts"], nameof(AudioContainer.Adts), "aac", 60 },
        { "a.wma", 4.0, 44100, 2, ["-c:a", "wmav2"], nameof(AudioContainer.Asf), "wmav2", 100 },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void RealFiles_GiveTheirDuration(string name, double seconds, int rate, int channels, string[] args, string containerName, string codec, int toleranceMs)
    {
        var container = Enum.Parse<AudioContainer>(containerName);
        var bytes = GeneratedAudio.Get(name, seconds, rate, channels, args);
        var result = Probe(bytes);
        Assert.True(result.Success, $"{name}: {result.Error} {result.Detail}");
        Assert.Equal(container, result.Info.Container);
        Assert.Equal(codec, result.Info.Codec);
        Assert.InRange(result.Info.DurationMs, (long)(seconds * 1000) - toleranceMs, (long)(seconds * 1000) + toleranceMs);
        if (result.Info.SampleRate > 0 && container is not AudioContainer.Ogg)
        {
            Assert.Equal(rate, result.Info.SampleRate);
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task TruncatedFiles_NeverThrowOrHang_AndNeverClaimMore(string name, double seconds, int rate, int channels, string[] args, string containerName, string codec, int toleranceMs)
    {
        var container = Enum.Parse<AudioContainer>(containerName);
        _ = (container, codec);
        var bytes = GeneratedAudio.Get(name, seconds, rate, channels, args);
        foreach (var length in new[] { 1, 10, 44, 100, bytes.Length / 2, bytes.Length - 1 })
        {
            var cut = bytes[..Math.Min(length, bytes.Length)];
            var result = await Task.Run(() => Probe(cut)).WaitAsync(TimeSpan.FromSeconds(5));
            if (result.Success)
            {
                Assert.InRange(result.Info.DurationMs, 0, (long)(seconds * 1000) + toleranceMs);
            }
            else
            {
                Assert.NotEqual(ProbeError.None, result.Error);
            }
        }
    }

    [Fact]
    public void TheStreamPositionOnEntry_DoesNotMatter()
    {
        var stream = new MemoryStream(GeneratedAudio.Get("s16.wav", 3.2, 44100, 1, "-c:a", "pcm_s16le")) { Position = 1234 };
        Assert.Equal(3200, AudioProbe.Probe(stream).Info.DurationMs);
    }

    [Fact]
    public void Empty_IsEmpty_AndNoise_IsUnsupported()
    {
        Assert.Equal(ProbeError.Empty, Probe([]).Error);
        var noise = new byte[4096];
        new Random(7).NextBytes(noise);
        noise[0] = 0x12;
        Assert.Equal(ProbeError.UnsupportedFormat, Probe(noise).Error);
        Assert.Equal(ProbeError.UnsupportedFormat, Probe([0x42]).Error);
    }

    [Fact]
    public void AmrNarrowbandAndWideband_CountTwentyMillisecondFrames()
    {
        // NB: FT 7 (12.2 kbit/s) = 1 + 31 bytes; FT 15 (no data) = 1 byte.
        var nb = new List<byte>(Encoding.ASCII.GetBytes("#!AMR\n"));
        for (var i = 0; i < 150; i++)
        {
            nb.Add(7 << 3 | 0x04);
            nb.AddRange(new byte[31]);
        }
        nb.Add(15 << 3 | 0x04);
        var result = Probe([.. nb]);
        Assert.True(result.Success);
        Assert.Equal((AudioContainer.Amr, "amr_nb", 151 * 20L, 8000), (result.Info.Container, result.Info.Codec, result.Info.DurationMs, result.Info.SampleRate));

        // WB: FT 8 (23.85 kbit/s) = 1 + 60 bytes.
        var wb = new List<byte>(Encoding.ASCII.GetBytes("#!AMR-WB\n"));
        for (var i = 0; i < 100; i++)
        {
            wb.Add(8 << 3 | 0x04);
            wb.AddRange(new byte[60]);
        }
        result = Probe([.. wb]);
        Assert.Equal((AudioContainer.Amr, "amr_wb", 2000L, 16000), (result.Info.Container, result.Info.Codec, result.Info.DurationMs, result.Info.SampleRate));

        nb[6] = 10 << 3; // a reserved frame type
        Assert.Equal(ProbeError.Corrupt, Probe([.. nb]).Error);
    }

    [Fact]
    public void Wav_WithUnknownDataSize_UsesTheBytesPresent_AndZeroChannelsIsCorrupt()
    {
        var wav = GeneratedAudio.Get("s16.wav", 3.2, 44100, 1, "-c:a", "pcm_s16le").ToArray();
        var data = IndexOf(wav, "data"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(data + 4), 0xFFFFFFFF);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(4), 0xFFFFFFFF);
        Assert.Equal(3200, Probe(wav).Info.DurationMs);

        var fmt = IndexOf(wav, "fmt "u8);
        BinaryPrimitives.WriteUInt16LittleEndian(wav.AsSpan(fmt + 10), 0);
        Assert.Equal(ProbeError.Corrupt, Probe(wav).Error);
    }

    [Fact]
    public void WebmWithoutDuration_IsMeasuredFromItsLastBlock()
    {
        var webm = GeneratedAudio.Get("a.webm", 3.5, 48000, 2, "-c:a", "libopus").ToArray();
        // Turn the 11-byte Duration element (44 89 88 + 8 bytes) into a Void element (EC 89 + 9 bytes), as live writers leave it.
        var duration = webm.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x44, 0x89, 0x88]);
        Assert.True(duration > 0);
        webm[duration] = 0xEC;
        webm[duration + 1] = 0x89;
        webm.AsSpan(duration + 2, 9).Clear();
        var result = Probe(webm);
        Assert.True(result.Success, result.Detail);
        Assert.InRange(result.Info.DurationMs, 3450, 3550);
    }

    [Fact]
    public void Mp4_HostileBoxSizes_AreCorrupt()
    {
        var m4a = GeneratedAudio.Get("a.m4a", 4.0, 44100, 2, "-c:a", "aac");
        var tooSmall = m4a.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(tooSmall, 4);
        Assert.Equal(ProbeError.Corrupt, Probe(tooSmall).Error);

        var huge = m4a.ToArray();
        var moov = IndexOf(huge, "moov"u8) - 4;
        BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(moov), 1);
        Assert.Equal(ProbeError.Corrupt, Probe(huge).Error);

        // 10,000 nested 'moov' boxes.
        var nested = new byte[8 * 10_000 + 16];
        byte[] ftyp = [0, 0, 0, 16, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'M', (byte)'4', (byte)'A', (byte)' ', 0, 0, 0, 0];
        ftyp.CopyTo(nested, 0);
        for (var i = 0; i < 10_000; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(nested.AsSpan(16 + i * 8), (uint)(nested.Length - 16 - i * 8));
            "moov"u8.CopyTo(nested.AsSpan(16 + i * 8 + 4));
        }
        Assert.Equal(ProbeError.Corrupt, Probe(nested).Error);
    }

    [Fact]
    public void Matroska_HostileSizesAndNesting_AreCorrupt()
    {
        // An EBML header, then a Segment whose size says 2^56 - 2 bytes.
        byte[] huge = [0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x15, 0x49, 0xA9, 0x66, 0x81];
        Assert.False(Probe(huge).Success);

        var deep = new List<byte> { 0x1A, 0x45, 0xDF, 0xA3, 0x80 };
        for (var i = 0; i < 10_000; i++)
        {
            deep.AddRange([0xA0, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]); // BlockGroups of unknown size
        }
        Assert.False(Probe([.. deep]).Success);
    }

    [Fact]
    public void Id3TagPointingPastTheEnd_AndFramesOfFF_AreRejected()
    {
        byte[] tag = [(byte)'I', (byte)'D', (byte)'3', 3, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F, 1, 2, 3];
        Assert.Equal(ProbeError.Corrupt, Probe(tag).Error);
        var ff = Enumerable.Repeat((byte)0xFF, 100_000).ToArray();
        Assert.False(Probe(ff).Success);
    }

    [Fact]
    public void OggWhoseLastPageIsGarbage_StillFindsAnEarlierPage_OrFails()
    {
        var ogg = GeneratedAudio.Get("a.ogg", 3.3, 44100, 2, "-c:a", "libvorbis").ToArray();
        var last = LastIndexOf(ogg, "OggS"u8);
        for (var i = last; i < ogg.Length; i++)
        {
            ogg[i] = 0x5A;
        }
        var result = Probe(ogg);
        Assert.True(!result.Success || result.Info.DurationMs < 3300);
    }

    [Fact]
    public void OggFollowedByMoreThanOneSearchStepOfJunk_StillFindsItsLastPage()
    {
        var ogg = GeneratedAudio.Get("a.ogg", 3.3, 44100, 2, "-c:a", "libvorbis").ToArray();
        var padded = ogg.Concat(new byte[150 * 1024]).ToArray();
        Assert.Equal(Probe(ogg).Info.DurationMs, Probe(padded).Info.DurationMs);
        Assert.InRange(Probe(padded).Info.DurationMs, 3290, 3310);
    }

    [Fact]
    public async Task FiftyMegabytesOfZeros_FinishQuickly()
    {
        var result = await Task.Run(() => AudioProbe.Probe(new ZeroStream(50L * 1024 * 1024))).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ProbeError.UnsupportedFormat, result.Error);
    }

    private static int IndexOf(byte[] bytes, ReadOnlySpan<byte> value) => bytes.AsSpan().IndexOf(value);

    private static int LastIndexOf(byte[] bytes, ReadOnlySpan<byte> value) => bytes.AsSpan().LastIndexOf(value);

    /// <summary>A long stream of zeros that is never materialized.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Max(0, Math.Min(count, length - Position));
            Array.Clear(buffer, offset, n);
            Position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
