using System.Buffers.Binary;

namespace Tollgate.Backends.Reference.Codecs.Flac;

/// <summary>The FLAC STREAMINFO block: block sizes, rate, channels, bits per sample, total samples and the MD5 of the decoded samples.</summary>
internal sealed record FlacStreamInfo(int MinBlockSize, int MaxBlockSize, int SampleRate, int Channels, int BitsPerSample, long TotalSamples, byte[] Md5)
{
    public const int Length = 34;

    /// <summary>Whether the encoder stored an MD5 (all zero means it did not).</summary>
    public bool HasMd5 => Md5.AsSpan().IndexOfAnyExcept((byte)0) >= 0;

    public static FlacStreamInfo? Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length < Length)
        {
            return null;
        }
        var minBlock = BinaryPrimitives.ReadUInt16BigEndian(b);
        var maxBlock = BinaryPrimitives.ReadUInt16BigEndian(b[2..]);
        var rate = (b[10] << 12) | (b[11] << 4) | (b[12] >> 4);
        var channels = ((b[12] >> 1) & 7) + 1;
        var bits = (((b[12] & 1) << 4) | (b[13] >> 4)) + 1;
        var total = ((long)(b[13] & 0x0F) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[14..]);
        if (minBlock < 16 || maxBlock < minBlock || rate is < 1 or > 655_350 || bits < 4)
        {
            return null;
        }
        return new FlacStreamInfo(minBlock, maxBlock, rate, channels, bits, total, b.Slice(18, 16).ToArray());
    }
}
