using System.Buffers.Binary;

namespace Tollgate.Backends.Reference.Pcm;

/// <summary>Writes a canonical 44-byte-header WAV of 16-bit mono PCM.</summary>
internal static class WavFile
{
    public const int HeaderBytes = 44;

    /// <summary>A WAV file of <paramref name="samples"/> at <paramref name="sampleRate"/>.</summary>
    public static byte[] Mono16(ReadOnlySpan<short> samples, int sampleRate)
    {
        var bytes = new byte[HeaderBytes + samples.Length * 2];
        var span = bytes.AsSpan();
        WriteHeader(span, sampleRate, samples.Length);
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(span[(HeaderBytes + i * 2)..], samples[i]);
        }
        return bytes;
    }

    /// <summary>
    /// The 44-byte header of a 16-bit mono PCM WAV holding <paramref name="frames"/> samples, written into the start of
    /// <paramref name="destination"/> (for writers that stream the samples after it).
    /// </summary>
    public static void WriteHeader(Span<byte> destination, int sampleRate, long frames)
    {
        var dataBytes = checked((uint)(frames * 2));
        var h = destination[..HeaderBytes];
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], checked(HeaderBytes - 8 + dataBytes));
        "WAVEfmt "u8.CopyTo(h[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(h[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)sampleRate * 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[34..], 16);
        "data"u8.CopyTo(h[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], dataBytes);
    }
}
