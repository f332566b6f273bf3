using System.Buffers.Binary;

namespace Tollgate.Audio.Probes;

/// <summary>WAV/RF64, AIFF/AIFF-C and AU: uncompressed (or simply coded) audio whose duration follows from the header and the data size.</summary>
internal static class PcmContainerProbes
{
    private const int MaxChunks = 10_000;

    public static ProbeResult Wav(ProbeSource source)
    {
        Span<byte> head = stackalloc byte[12];
        source.TryRead(0, head);
        var rf64 = !head[..4].SequenceEqual("RIFF"u8);
        long ds64Data = -1;
        long factSamples = -1;
        int tag = 0, channels = 0, rate = 0, byteRate = 0, blockAlign = 0, bits = 0;
        var sawFormat = false;
        long position = 12;
        Span<byte> chunk = stackalloc byte[8];
        Span<byte> body = stackalloc byte[40];
        for (var i = 0; i < MaxChunks && source.TryRead(position, chunk); i++)
        {
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            var id = chunk[..4];
            var start = position + 8;
            if (id.SequenceEqual("ds64"u8) && source.TryRead(start, body[..24]))
            {
                ds64Data = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
                factSamples = BinaryPrimitives.ReadInt64LittleEndian(body[16..]);
            }
            else if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || !source.TryRead(start, body[..16]))
                {
                    throw new ProbeException();
                }
                tag = BinaryPrimitives.ReadUInt16LittleEndian(body);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
                rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
                byteRate = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(body[12..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(body[14..]);
                if (tag == 0xFFFE && size >= 40 && source.TryRead(start, body[..26]))
                {
                    tag = BinaryPrimitives.ReadUInt16LittleEndian(body[24..]);
                }
                sawFormat = true;
            }
            else if (id.SequenceEqual("fact"u8) && !rf64 && size >= 4 && source.TryRead(start, body[..4]))
            {
                factSamples = BinaryPrimitives.ReadUInt32LittleEndian(body);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (!sawFormat || channels == 0 || rate <= 0 || blockAlign == 0)
                {
                    throw new ProbeException();
                }
                var declared = size == 0xFFFFFFFF && ds64Data >= 0 ? ds64Data : size;
                var present = Math.Min(declared, source.Length - start);
                var pcm = tag is 1 or 3 or 6 or 7;
                var ms = pcm ? ProbeMath.Milliseconds(present / blockAlign, rate)
                    : factSamples < 0 ? ProbeMath.Milliseconds(present, byteRate)
                    : ProbeMath.Milliseconds(factSamples, rate);
                return ProbeResult.Ok(new AudioInfo(AudioContainer.Wav, WavCodec(tag, bits), ms, rate, channels));
            }
            position = start + size + (size & 1);
        }
        throw new ProbeException();
    }

    private static string WavCodec(int tag, int bits) => tag switch
    {
        1 => bits switch { 8 => "pcm_u8", 16 => "pcm_s16le", 24 => "pcm_s24le", 32 => "pcm_s32le", _ => "pcm" },
        3 => bits == 64 ? "pcm_f64le" : "pcm_f32le",
        6 => "pcm_alaw",
        7 => "pcm_mulaw",
        2 => "adpcm_ms",
        0x11 => "adpcm_ima_wav",
        0x55 => "mp3",
        _ => $"wav_0x{tag:x4}",
    };

    public static ProbeResult Aiff(ProbeSource source)
    {
        long position = 12;
        Span<byte> chunk = stackalloc byte[8];
        Span<byte> comm = stackalloc byte[22];
        for (var i = 0; i < MaxChunks && source.TryRead(position, chunk); i++)
        {
            long size = BinaryPrimitives.ReadUInt32BigEndian(chunk[4..]);
            if (chunk[..4].SequenceEqual("COMM"u8))
            {
                if (size < 18 || !source.TryRead(position + 8, comm[..18]))
                {
                    throw new ProbeException();
                }
                var channels = BinaryPrimitives.ReadInt16BigEndian(comm);
                var frames = BinaryPrimitives.ReadUInt32BigEndian(comm[2..]);
                var bits = BinaryPrimitives.ReadInt16BigEndian(comm[6..]);
                var rate = Extended80(comm.Slice(8, 10));
                if (channels <= 0 || !(rate >= 1 && rate <= 10_000_000))
                {
                    throw new ProbeException();
                }
                var codec = "pcm_s" + bits + "be";
                if (size >= 22 && source.TryRead(position + 8, comm[..22]))
                {
                    var type = comm.Slice(18, 4);
                    if (type.SequenceEqual("sowt"u8)) codec = "pcm_s" + bits + "le";
                    else if (type.SequenceEqual("fl32"u8) || type.SequenceEqual("FL32"u8)) codec = "pcm_f32be";
                    else if (type.SequenceEqual("ulaw"u8) || type.SequenceEqual("ULAW"u8)) codec = "pcm_mulaw";
                    else if (type.SequenceEqual("alaw"u8) || type.SequenceEqual("ALAW"u8)) codec = "pcm_alaw";
                }
                return ProbeResult.Ok(new AudioInfo(AudioContainer.Aiff, codec, (long)(frames * 1000L / rate), (int)rate, channels));
            }
            position += 8 + size + (size & 1);
        }
        throw new ProbeException();
    }

    /// <summary>An IEEE 754 80-bit extended float (AIFF's sample rate).</summary>
    public static double Extended80(ReadOnlySpan<byte> b)
    {
        var exponent = ((b[0] & 0x7F) << 8) | b[1];
        var mantissa = BinaryPrimitives.ReadUInt64BigEndian(b[2..]);
        if (exponent == 0 || exponent == 0x7FFF)
        {
            return 0;
        }
        return mantissa * Math.Pow(2, exponent - 16383 - 63) * ((b[0] & 0x80) != 0 ? -1 : 1);
    }

    public static ProbeResult Au(ProbeSource source)
    {
        Span<byte> h = stackalloc byte[24];
        if (!source.TryRead(0, h))
        {
            throw new ProbeException();
        }
        var offset = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        var size = BinaryPrimitives.ReadUInt32BigEndian(h[8..]);
        var encoding = BinaryPrimitives.ReadUInt32BigEndian(h[12..]);
        var rate = (int)BinaryPrimitives.ReadUInt32BigEndian(h[16..]);
        var channels = (int)BinaryPrimitives.ReadUInt32BigEndian(h[20..]);
        var (bytes, codec) = encoding switch
        {
            1 => (1, "pcm_mulaw"),
            2 => (1, "pcm_s8"),
            3 => (2, "pcm_s16be"),
            4 => (3, "pcm_s24be"),
            5 => (4, "pcm_s32be"),
            6 => (4, "pcm_f32be"),
            7 => (8, "pcm_f64be"),
            27 => (1, "pcm_alaw"),
            _ => (0, ""),
        };
        if (bytes == 0 || offset < 24 || offset > source.Length || rate <= 0 || channels is <= 0 or > 1024)
        {
            throw new ProbeException();
        }
        var present = source.Length - offset;
        var data = size == 0xFFFFFFFF ? present : Math.Min(size, present);
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Au, codec, data / ((long)bytes * channels) * 1000 / rate, rate, channels));
    }
}
