using System.Buffers.Binary;

namespace Tollgate.Reference.Pcm;

/// <summary>Writes a canonical 44-byte-header WAV of 16-bit mono PCM.</summary>
public static class WavFile
{
    public const int HeaderBytes = 44;

    /// <summary>A WAV file of <paramref name="samples"/> at <paramref name="sampleRate"/>.</summary>
    public static byte[] Mono16(ReadOnlySpan<short> samples, int sampleRate)
    {
        var bytes = new byte[HeaderBytes + samples.Length * 2];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], bytes.Length - 8);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], samples.Length * 2);
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(span[(HeaderBytes + i * 2)..], samples[i]);
        }
        return bytes;
    }
}
