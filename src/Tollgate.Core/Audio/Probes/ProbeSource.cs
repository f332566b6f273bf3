using System.Buffers.Binary;

namespace Tollgate.Audio.Probes;

/// <summary>
/// Bounds-checked reads at absolute offsets of a seekable stream. Probes never trust a declared size: every read
/// is checked against the real length, so hostile headers end in <see cref="ProbeError.Corrupt"/>, not an exception.
/// </summary>
internal sealed class ProbeSource(Stream stream, long length, long available)
{
    public ProbeSource(Stream stream)
        : this(stream, stream.Length, stream.Length)
    {
    }

    /// <summary>The file's length (for a prefix: the length the whole file has, or at most has).</summary>
    public long Length { get; } = length;

    /// <summary>
    /// True when only the file's first <c>available</c> bytes are at hand (the upload is still arriving): a read past
    /// them throws <see cref="PrefixExhaustedException"/>, and a probe stops as soon as the headers have said everything.
    /// </summary>
    public bool Partial { get; } = available < length;

    private void CheckAvailable(long offset, int count)
    {
        if (offset + count > available)
        {
            throw new PrefixExhaustedException();
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; false when the stream ends first.</summary>
    public bool TryRead(long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset > Length - buffer.Length)
        {
            return false;
        }
        CheckAvailable(offset, buffer.Length);
        stream.Position = offset;
        stream.ReadExactly(buffer);
        return true;
    }

    /// <summary>Reads up to <paramref name="buffer"/>'s length from <paramref name="offset"/>; returns the count read.</summary>
    public int ReadAt(long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset >= Length)
        {
            return 0;
        }
        var count = (int)Math.Min(buffer.Length, Length - offset);
        CheckAvailable(offset, count);
        stream.Position = offset;
        stream.ReadExactly(buffer[..count]);
        return count;
    }

    public uint U32BE(long offset)
    {
        Span<byte> b = stackalloc byte[4];
        return TryRead(offset, b) ? BinaryPrimitives.ReadUInt32BigEndian(b) : throw new ProbeException();
    }

    public ulong U64BE(long offset)
    {
        Span<byte> b = stackalloc byte[8];
        return TryRead(offset, b) ? BinaryPrimitives.ReadUInt64BigEndian(b) : throw new ProbeException();
    }

    /// <summary>Skips any ID3v2 tags at <paramref name="offset"/> (MP3, ADTS and FLAC files may start with them).</summary>
    public long SkipId3v2(long offset)
    {
        Span<byte> h = stackalloc byte[10];
        for (var tags = 0; tags < 8 && TryRead(offset, h) && h[0] == 'I' && h[1] == 'D' && h[2] == '3'; tags++)
        {
            if ((h[6] | h[7] | h[8] | h[9]) >= 0x80)
            {
                throw new ProbeException();
            }
            var size = (h[6] << 21) | (h[7] << 14) | (h[8] << 7) | h[9];
            offset += 10 + size + ((h[5] & 0x10) != 0 ? 10 : 0);
            if (offset > Length)
            {
                throw new ProbeException();
            }
        }
        return offset;
    }
}

/// <summary>Thrown inside a probe when the bytes contradict themselves; <see cref="AudioProbe"/> turns it into <see cref="ProbeError.Corrupt"/>.</summary>
internal sealed class ProbeException : Exception
{
    public ProbeException()
        : base("The audio headers are truncated or inconsistent.")
    {
    }
}

/// <summary>A probe of a prefix needed bytes beyond it: the duration is not established by the file's beginning.</summary>
internal sealed class PrefixExhaustedException : Exception
{
    public PrefixExhaustedException()
        : base("The probe needs more of the file than its beginning.")
    {
    }
}
