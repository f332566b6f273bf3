using System.Buffers.Binary;
using Tollgate.Audio;

namespace Tollgate.Backends.Reference.Pcm;

/// <summary>Reads one encoded sample as a float in [-1, 1]: integer PCM, IEEE float and G.711 µ-law / A-law.</summary>
internal static class SampleCodec
{
    /// <summary>
    /// A sample as the sinks take it: finite and in [-1, 1]. Lossy decoders (MP3, Vorbis) overshoot full scale on loud
    /// or damaged frames (fuzzing found MP3 frames decoding to ±1.07), and a float file may hold anything.
    /// </summary>
    public static float Clip(float value) => float.IsFinite(value) ? Math.Clamp(value, -1f, 1f) : 0f;

    private static readonly float[] MuLaw = BuildMuLaw();
    private static readonly float[] ALaw = BuildALaw();

    public static float Read(ReadOnlySpan<byte> s, in RawSampleFormat format)
    {
        var big = format.BigEndian;
        switch (format.Encoding)
        {
            case SampleEncoding.MuLaw:
                return MuLaw[s[0]];
            case SampleEncoding.ALaw:
                return ALaw[s[0]];
            case SampleEncoding.Float:
                var value = format.BytesPerSample == 4
                    ? big ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s)
                    : (float)(big ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s));
                return Clip(value);
            case SampleEncoding.SignedInt:
                return format.BytesPerSample switch
                {
                    1 => (sbyte)s[0] / 128f,
                    2 => (big ? BinaryPrimitives.ReadInt16BigEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s)) / 32768f,
                    3 => Int24(s, big) / 8388608f,
                    _ => (float)((big ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s)) / 2147483648.0),
                };
            default:
                return format.BytesPerSample switch
                {
                    1 => (s[0] - 128) / 128f,
                    2 => ((big ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s)) - 32768) / 32768f,
                    3 => (UInt24(s, big) - 8388608) / 8388608f,
                    _ => (float)(((big ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s)) - 2147483648.0) / 2147483648.0),
                };
        }
    }

    private static int UInt24(ReadOnlySpan<byte> s, bool big) =>
        big ? s[0] << 16 | s[1] << 8 | s[2] : s[2] << 16 | s[1] << 8 | s[0];

    private static int Int24(ReadOnlySpan<byte> s, bool big)
    {
        var u = UInt24(s, big);
        return (u & 0x800000) != 0 ? u - 0x1000000 : u;
    }

    /// <summary>ITU-T G.711 µ-law expansion to 16-bit linear, scaled to [-1, 1].</summary>
    private static float[] BuildMuLaw()
    {
        var table = new float[256];
        for (var i = 0; i < 256; i++)
        {
            var u = ~i & 0xFF;
            var exponent = (u >> 4) & 7;
            var magnitude = ((((u & 0x0F) << 3) + 0x84) << exponent) - 0x84;
            table[i] = ((u & 0x80) != 0 ? -magnitude : magnitude) / 32768f;
        }
        return table;
    }

    /// <summary>ITU-T G.711 A-law expansion to 16-bit linear, scaled to [-1, 1].</summary>
    private static float[] BuildALaw()
    {
        var table = new float[256];
        for (var i = 0; i < 256; i++)
        {
            var a = i ^ 0x55;
            var exponent = (a >> 4) & 7;
            var mantissa = a & 0x0F;
            var magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
            table[i] = ((a & 0x80) != 0 ? magnitude : -magnitude) / 32768f;
        }
        return table;
    }
}
