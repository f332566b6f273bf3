using System.Buffers.Binary;
using CsCheck;

namespace Tollgate.Audio;

/// <summary>
/// Property-based tests of <see cref="AudioProbe"/> (CsCheck): real files of every format, damaged by generated
/// mutations, and headers that claim sizes the bytes do not have. Whatever the bytes, the probe answers (never throws,
/// never hangs), says nothing impossible (a negative duration, rate or channel count), and allocates in proportion to
/// what the file has — never to what it claims: a header claiming a 4 GB chunk must not cost 4 GB.
/// </summary>
public sealed class ProbePropertyTests
{
    /// <summary>Per probe: room for its small buffers and a pooled array rented for the first time on a thread, plus 16 bytes per byte the file really has.</summary>
    private static long AllocationBound(int length) => 256 * 1024 + 16L * length;

    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>Small real files, one per format and variant the probes know (encoded by ffmpeg at test time).</summary>
    private static readonly Lazy<byte[][]> Seeds = new(() =>
    [
        GeneratedAudio.Get("p-s16.wav", 0.3, 8000, 1, "-c:a", "pcm_s16le"),
        GeneratedAudio.Get("p-rf64.wav", 0.3, 8000, 1, "-c:a", "pcm_s16le", "-rf64", "always"),
        GeneratedAudio.Get("p-adpcm.wav", 0.3, 8000, 1, "-c:a", "adpcm_ms"),
        GeneratedAudio.Get("p.aiff", 0.3, 8000, 1),
        GeneratedAudio.Get("p.au", 0.3, 8000, 1),
        GeneratedAudio.Get("p.flac", 0.3, 8000, 1),
        GeneratedAudio.Get("p.mp3", 0.3, 16000, 1, "-c:a", "libmp3lame", "-b:a", "32k"),
        GeneratedAudio.Get("p-scan.mp3", 0.3, 16000, 1, "-c:a", "libmp3lame", "-b:a", "32k", "-write_xing", "0"),
        GeneratedAudio.Get("p-tagged.mp3", 0.3, 16000, 1, "-c:a", "libmp3lame", "-metadata", "title=x", "-id3v2_version", "3"),
        GeneratedAudio.Get("p.ogg", 0.3, 8000, 1, "-c:a", "libvorbis"),
        GeneratedAudio.Get("p.opus", 0.3, 48000, 1, "-c:a", "libopus"),
        GeneratedAudio.Get("p-flac.ogg", 0.3, 8000, 1, "-c:a", "flac"),
        GeneratedAudio.Get("p.m4a", 0.3, 8000, 1, "-c:a", "aac"),
        GeneratedAudio.Get("p-frag.mp4", 0.3, 8000, 1, "-c:a", "aac", "-movflags", "frag_keyframe+empty_moov"),
        GeneratedAudio.Get("p.webm", 0.3, 48000, 1, "-c:a", "libopus"),
        GeneratedAudio.Get("p.mkv", 0.3, 8000, 1, "-c:a", "libvorbis"),
        GeneratedAudio.Get("p.aac", 0.3, 8000, 1, "-c:a", "aac", "-f", "adts"),
        GeneratedAudio.Get("p.wma", 0.3, 8000, 1, "-c:a", "wmav2", "-b:a", "32k"),
    ]);

    /// <summary>The values a lying header likes: empty, one, the signed and unsigned maxima, all ones.</summary>
    private static readonly ulong[] Extremes =
        [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, ulong.MaxValue];

    private readonly record struct Mutation(int Kind, double Where, ulong Value, int Length);

    private static readonly Gen<Mutation> MutationGen = Gen.Select(
        Gen.Int[0, 5], Gen.Double[0, 1], Gen.Frequency((3, (IGen<ulong>)Gen.OneOf(Extremes)), (1, Gen.ULong)), Gen.Int[1, 64],
        (kind, where, value, length) => new Mutation(kind, where, value, length));

    [Fact]
    public async Task MutatedRealFiles_AreAnsweredSanely_WithinTheirAllocationBound()
    {
        var seeds = Seeds.Value;
        await Task.Run(() => Gen.Select(Gen.Int[0, seeds.Length - 1], MutationGen.Array[1, 8])
            .Sample((seed, mutations) => AssertSane(Apply(seeds[seed], mutations)), iter: 4000,
                print: t => $"seed {t.Item1}, mutations {string.Join(", ", t.Item2)}"))
            .WaitAsync(Limit);
    }

    [Fact]
    public async Task RandomBytesBehindEveryMagic_AreAnsweredSanely()
    {
        byte[][] magics =
        [
            "RIFF\0\0\0\0WAVE"u8.ToArray(), "RF64\xff\xff\xff\xffWAVE"u8.ToArray(), "FORM\0\0\0\0AIFF"u8.ToArray(), ".snd"u8.ToArray(),
            "OggS\0"u8.ToArray(), "#!AMR\n"u8.ToArray(), "#!AMR-WB\n"u8.ToArray(), [0x1A, 0x45, 0xDF, 0xA3], "\0\0\0\x20ftyp"u8.ToArray(),
            "\0\0\0\x08moov"u8.ToArray(), "fLaC"u8.ToArray(), "ID3\x03\0\0\0\0\0\0"u8.ToArray(), [0xFF, 0xFB, 0x90, 0x64], [0xFF, 0xF1, 0x50, 0x80],
            [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C],
        ];
        await Task.Run(() => Gen.Select(Gen.Int[0, magics.Length - 1], Gen.Byte.Array[0, 4096])
            .Sample((magic, tail) => AssertSane([.. magics[magic], .. tail]), iter: 4000,
                print: t => $"magic {t.Item1}, {Convert.ToHexString(t.Item2)}"))
            .WaitAsync(Limit);
    }

    /// <summary>
    /// Every 4-byte and 8-byte field in the first 512 bytes of every seed (where the sizes, counts and offsets are)
    /// rewritten to claim the most it can, in both byte orders: the probe's allocation stays bounded by the real length.
    /// </summary>
    [Fact]
    public async Task EverySizeFieldClaimingTheMost_CostsWhatTheFileHas_NotWhatItClaims()
    {
        await Task.Run(() =>
        {
            Span<byte> saved = stackalloc byte[8];
            foreach (var seed in Seeds.Value)
            {
                var bytes = seed.ToArray();
                for (var offset = 0; offset + 8 <= Math.Min(bytes.Length, 512); offset++)
                {
                    foreach (var (value, width) in new[] { (0xFFFF_FFFFUL, 4), (0x7FFF_FFFFUL, 4), (0x8000_0000UL, 4), (ulong.MaxValue, 8), (0x7FFF_FFFF_FFFF_FFFFUL, 8) })
                    {
                        foreach (var bigEndian in new[] { false, true })
                        {
                            bytes.AsSpan(offset, 8).CopyTo(saved);
                            Write(bytes.AsSpan(offset), value, width, bigEndian);
                            AssertSane(bytes);
                            saved.CopyTo(bytes.AsSpan(offset, 8));
                        }
                    }
                }
            }
        }).WaitAsync(Limit);
    }

    [Fact]
    public void TheAllocationMeasurementSeesAnAllocation()
    {
        // The bound is only worth something if the counter moves: a probe that allocated what a header claims would be caught.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var claimed = new byte[1 << 20];
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(claimed);
        Assert.True(allocated >= 1 << 20, $"{allocated}");
    }

    private static void AssertSane(byte[] bytes)
    {
        var stream = new MemoryStream(bytes, writable: false);
        AudioProbe.Probe(new MemoryStream(bytes, writable: false)); // the first call on a thread pays for statics and pooled buffers
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = AudioProbe.Probe(stream);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= AllocationBound(bytes.Length), $"{allocated:N0} bytes allocated for a {bytes.Length:N0}-byte file");
        if (result.Success)
        {
            Assert.InRange(result.Info.DurationMs, 0, Probes.ProbeMath.MaxDurationMs);
            Assert.True(result.Info.SampleRate >= 0 && result.Info.Channels >= 0, result.Info.ToString());
            Assert.False(string.IsNullOrEmpty(result.Info.Codec));
        }
        else
        {
            Assert.NotEqual(ProbeError.None, result.Error);
            Assert.False(string.IsNullOrEmpty(result.Detail));
        }
    }

    private static byte[] Apply(byte[] seed, Mutation[] mutations)
    {
        var bytes = seed.ToList();
        foreach (var m in mutations)
        {
            if (bytes.Count == 0)
            {
                break;
            }
            var at = Math.Min(bytes.Count - 1, (int)(m.Where * bytes.Count));
            switch (m.Kind)
            {
                case 0: // one byte
                    bytes[at] = (byte)m.Value;
                    break;
                case 1: // a 32-bit field, either byte order
                case 2: // a 64-bit field, either byte order
                    var width = m.Kind == 1 ? 4 : 8;
                    if (at + width <= bytes.Count)
                    {
                        var field = new byte[width];
                        Write(field, m.Value, width, bigEndian: (m.Length & 1) == 0);
                        for (var i = 0; i < width; i++)
                        {
                            bytes[at + i] = field[i];
                        }
                    }
                    break;
                case 3: // cut short
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4: // a slice removed
                    bytes.RemoveRange(at, Math.Min(m.Length, bytes.Count - at));
                    break;
                default: // a slice repeated
                    var slice = bytes.GetRange(at, Math.Min(m.Length, bytes.Count - at));
                    bytes.InsertRange(at, slice);
                    break;
            }
        }
        return [.. bytes];
    }

    private static void Write(Span<byte> target, ulong value, int width, bool bigEndian)
    {
        if (width == 4)
        {
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(target, (uint)value);
            else BinaryPrimitives.WriteUInt32LittleEndian(target, (uint)value);
        }
        else
        {
            if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(target, value);
            else BinaryPrimitives.WriteUInt64LittleEndian(target, value);
        }
    }
}
