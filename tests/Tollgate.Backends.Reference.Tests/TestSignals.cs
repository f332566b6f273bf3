using System.Buffers.Binary;
using Tollgate.Audio;

namespace Tollgate.Backends.Reference;

/// <summary>Synthetic audio for the reference tests: tone bursts at known times, encoded in any raw layout or container.</summary>
internal static class TestSignals
{
    /// <summary>Mono samples: a 440 Hz tone at amplitude 0.27 during <paramref name="bursts"/> (seconds), <paramref name="noise"/> elsewhere.</summary>
    public static float[] Bursts(int rate, double seconds, (double Start, double End)[] bursts, float noise = 0)
    {
        var random = new Random(7);
        var samples = new float[(int)Math.Round(rate * seconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            var t = (double)i / rate;
            var tone = bursts.Any(b => t >= b.Start && t < b.End) ? 0.27f * MathF.Sin(2 * MathF.PI * 440 * (float)t) : 0f;
            samples[i] = tone + noise * (float)(random.NextDouble() * 2 - 1);
        }
        return samples;
    }

    /// <summary>
    /// Speech-like mono audio: during each utterance (seconds) a voiced sound (harmonics of a pitch gliding between
    /// 110 and 190 Hz, falling off like a voice's spectrum) whose loudness swells with 4 Hz syllables; faint noise elsewhere.
    /// </summary>
    public static float[] Speech(int rate, double seconds, (double Start, double End)[] utterances)
    {
        var random = new Random(5);
        var samples = new float[(int)Math.Round(rate * seconds)];
        var phase = 0.0;
        for (var i = 0; i < samples.Length; i++)
        {
            var t = (double)i / rate;
            var noise = 0.002 * (random.NextDouble() * 2 - 1);
            if (!utterances.Any(u => t >= u.Start && t < u.End))
            {
                samples[i] = (float)noise;
                continue;
            }
            var pitch = 150 + 40 * Math.Sin(2 * Math.PI * 0.7 * t);
            phase += 2 * Math.PI * pitch / rate;
            var voiced = 0.0;
            for (var h = 1; h <= 12 && h * pitch < rate / 2.0; h++)
            {
                voiced += Math.Sin(h * phase) / h;
            }
            var syllables = 0.65 + 0.35 * Math.Sin(2 * Math.PI * 4 * t);
            samples[i] = (float)(0.18 * syllables * voiced + noise);
        }
        return samples;
    }

    public static RawSampleFormat Format(string name) =>
        RawSampleFormat.TryParse(name, out var format) ? format : throw new ArgumentException(name);

    /// <summary>Interleaves <paramref name="mono"/> into <paramref name="channels"/> identical channels of <paramref name="format"/>.</summary>
    public static byte[] Encode(float[] mono, RawSampleFormat format, int channels = 1)
    {
        var size = format.BytesPerSample;
        var bytes = new byte[mono.Length * size * channels];
        for (var i = 0; i < mono.Length; i++)
        {
            for (var c = 0; c < channels; c++)
            {
                Write(bytes.AsSpan((i * channels + c) * size, size), mono[i], format);
            }
        }
        return bytes;
    }

    private static void Write(Span<byte> s, float x, RawSampleFormat f)
    {
        var big = f.BigEndian;
        switch (f.Encoding, f.BytesPerSample)
        {
            case (SampleEncoding.MuLaw, _):
                s[0] = MuLaw((short)(x * 32767));
                break;
            case (SampleEncoding.Float, 4):
                if (big) { BinaryPrimitives.WriteSingleBigEndian(s, x); } else { BinaryPrimitives.WriteSingleLittleEndian(s, x); }
                break;
            case (SampleEncoding.SignedInt, 2):
                if (big) { BinaryPrimitives.WriteInt16BigEndian(s, (short)(x * 32767)); } else { BinaryPrimitives.WriteInt16LittleEndian(s, (short)(x * 32767)); }
                break;
            case (SampleEncoding.SignedInt, 3):
                var v = (int)(x * 8388607);
                if (big) { s[0] = (byte)(v >> 16); s[1] = (byte)(v >> 8); s[2] = (byte)v; } else { s[2] = (byte)(v >> 16); s[1] = (byte)(v >> 8); s[0] = (byte)v; }
                break;
            case (SampleEncoding.UnsignedInt, 1):
                s[0] = (byte)(x * 127 + 128);
                break;
            default:
                throw new NotSupportedException(f.Name);
        }
    }

    /// <summary>G.711 µ-law compression of one 16-bit sample.</summary>
    private static byte MuLaw(short sample)
    {
        const int Bias = 0x84;
        var sign = sample < 0 ? 0x80 : 0;
        var magnitude = Math.Min(Math.Abs((int)sample), 32635) + Bias;
        var exponent = 7;
        for (var mask = 0x4000; (magnitude & mask) == 0 && exponent > 0; mask >>= 1)
        {
            exponent--;
        }
        var mantissa = (magnitude >> (exponent + 3)) & 0x0F;
        return (byte)~(sign | (exponent << 4) | mantissa);
    }

    /// <summary>Interleaves one mono signal per channel into <paramref name="format"/>.</summary>
    public static byte[] Interleave(float[][] channels, RawSampleFormat format)
    {
        var size = format.BytesPerSample;
        var frames = channels[0].Length;
        var bytes = new byte[frames * size * channels.Length];
        for (var i = 0; i < frames; i++)
        {
            for (var c = 0; c < channels.Length; c++)
            {
                Write(bytes.AsSpan((i * channels.Length + c) * size, size), channels[c][i], format);
            }
        }
        return bytes;
    }

    /// <summary>A canonical WAV around interleaved integer samples of <paramref name="format"/> (u8, s16le, s24le, s32le).</summary>
    public static byte[] WavOf(byte[] data, RawSampleFormat format, int rate, int channels)
    {
        var block = format.BytesPerSample * channels;
        using var m = new MemoryStream();
        var w = new BinaryWriter(m);
        w.Write("RIFF"u8);
        w.Write(36 + data.Length);
        w.Write("WAVEfmt "u8);
        w.Write(16);
        w.Write((short)1);
        w.Write((short)channels);
        w.Write(rate);
        w.Write(rate * block);
        w.Write((short)block);
        w.Write((short)(8 * format.BytesPerSample));
        w.Write("data"u8);
        w.Write(data.Length);
        w.Write(data);
        return m.ToArray();
    }

    /// <summary>A 16-bit PCM WAV; <paramref name="extraChunk"/> adds an odd-sized LIST chunk before <c>data</c>; <paramref name="trailer"/> bytes follow the data chunk.</summary>
    public static byte[] Wav(float[] mono, int rate, int channels = 1, bool extraChunk = false, int trailer = 0, bool streamedSize = false)
    {
        var data = Encode(mono, Format("s16le"), channels);
        using var m = new MemoryStream();
        var w = new BinaryWriter(m);
        w.Write("RIFF"u8);
        w.Write(0);
        w.Write("WAVE"u8);
        w.Write("fmt "u8);
        w.Write(16);
        w.Write((short)1);
        w.Write((short)channels);
        w.Write(rate);
        w.Write(rate * 2 * channels);
        w.Write((short)(2 * channels));
        w.Write((short)16);
        if (extraChunk)
        {
            w.Write("LIST"u8);
            w.Write(5);
            w.Write("INFOx"u8);
            w.Write((byte)0);
        }
        w.Write("data"u8);
        w.Write(streamedSize ? -1 : data.Length);
        w.Write(data);
        w.Write(new byte[trailer]);
        var bytes = m.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), streamedSize ? -1 : bytes.Length - 8);
        return bytes;
    }

    /// <summary>A 16-bit big-endian AIFF.</summary>
    public static byte[] Aiff(float[] mono, int rate)
    {
        var data = Encode(mono, Format("s16be"));
        var bytes = new byte[12 + 26 + 16 + data.Length];
        var s = bytes.AsSpan();
        "FORM"u8.CopyTo(s);
        BinaryPrimitives.WriteInt32BigEndian(s[4..], bytes.Length - 8);
        "AIFF"u8.CopyTo(s[8..]);
        "COMM"u8.CopyTo(s[12..]);
        BinaryPrimitives.WriteInt32BigEndian(s[16..], 18);
        BinaryPrimitives.WriteInt16BigEndian(s[20..], 1);
        BinaryPrimitives.WriteInt32BigEndian(s[22..], mono.Length);
        BinaryPrimitives.WriteInt16BigEndian(s[26..], 16);
        WriteExtended(s.Slice(28, 10), rate);
        "SSND"u8.CopyTo(s[38..]);
        BinaryPrimitives.WriteInt32BigEndian(s[42..], 8 + data.Length);
        data.CopyTo(s[54..]);
        return bytes;
    }

    /// <summary>An AU (.snd) file of µ-law samples with a 4-byte annotation.</summary>
    public static byte[] Au(float[] mono, int rate)
    {
        var data = Encode(mono, Format("mulaw"));
        var bytes = new byte[28 + data.Length];
        var s = bytes.AsSpan();
        ".snd"u8.CopyTo(s);
        BinaryPrimitives.WriteInt32BigEndian(s[4..], 28);
        BinaryPrimitives.WriteInt32BigEndian(s[8..], data.Length);
        BinaryPrimitives.WriteInt32BigEndian(s[12..], 1);
        BinaryPrimitives.WriteInt32BigEndian(s[16..], rate);
        BinaryPrimitives.WriteInt32BigEndian(s[20..], 1);
        "note"u8.CopyTo(s[24..]);
        data.CopyTo(s[28..]);
        return bytes;
    }

    private static void WriteExtended(Span<byte> b, int value)
    {
        var exponent = 16383 + 63;
        var mantissa = (ulong)value;
        while ((mantissa & 0x8000000000000000UL) == 0)
        {
            mantissa <<= 1;
            exponent--;
        }
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)exponent);
        BinaryPrimitives.WriteUInt64BigEndian(b[2..], mantissa);
    }

    /// <summary>Feeds <paramref name="bytes"/> in chunks of the given sizes, cycling.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] bytes, params int[] sizes)
    {
        var offset = 0;
        for (var i = 0; offset < bytes.Length; i++)
        {
            var size = Math.Min(sizes[i % sizes.Length], bytes.Length - offset);
            yield return bytes.AsMemory(offset, size);
            offset += size;
        }
    }
}
