namespace Tollgate.Backends.Reference.Codecs.Flac;

/// <summary>
/// A FLAC frame header: sync code, block size, rate, channel assignment, sample size and the coded frame or sample
/// number, checked against its CRC-8. Codes that defer to STREAMINFO take its values.
/// </summary>
/// <param name="Number">The frame number (fixed block size) or the first sample's number (variable block size).</param>
internal readonly record struct FlacFrameHeader(int BlockSize, int SampleRate, int ChannelAssignment, int BitsPerSample, int Length, bool VariableBlocks, long Number)
{
    /// <summary>Longest header: 2 sync bytes, 2 code bytes, a 7-byte coded number, 2 + 2 bytes of sizes, the CRC.</summary>
    public const int MaxLength = 16;

    public int Channels => ChannelAssignment < 8 ? ChannelAssignment + 1 : 2;

    /// <summary>Whether <paramref name="b"/> starts with the 14-bit frame sync code.</summary>
    public static bool IsSync(ReadOnlySpan<byte> b) => b.Length >= 2 && b[0] == 0xFF && (b[1] & 0xFE) == 0xF8;

    /// <summary>Parses a header; false when it is not a valid one (or <paramref name="b"/> is too short to tell, see <paramref name="needMore"/>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> b, FlacStreamInfo info, out FlacFrameHeader header, out bool needMore)
    {
        header = default;
        needMore = false;
        if (b.Length < 5)
        {
            needMore = IsSync(b) || b.Length < 2;
            return false;
        }
        if (!IsSync(b) || (b[3] & 1) != 0)
        {
            return false;
        }
        var blockCode = b[2] >> 4;
        var rateCode = b[2] & 0x0F;
        var assignment = b[3] >> 4;
        var sizeCode = (b[3] >> 1) & 7;
        if (blockCode == 0 || rateCode == 15 || assignment > 10 || sizeCode == 3)
        {
            return false;
        }
        var numberLength = b[4] switch
        {
            < 0x80 => 1,
            >= 0xC0 and < 0xE0 => 2,
            >= 0xE0 and < 0xF0 => 3,
            >= 0xF0 and < 0xF8 => 4,
            >= 0xF8 and < 0xFC => 5,
            >= 0xFC and < 0xFE => 6,
            0xFE => 7,
            _ => 0,
        };
        if (numberLength == 0)
        {
            return false;
        }
        var length = 4 + numberLength + (blockCode switch { 6 => 1, 7 => 2, _ => 0 }) + (rateCode switch { 12 => 1, 13 or 14 => 2, _ => 0 }) + 1;
        if (b.Length < length)
        {
            needMore = true;
            return false;
        }
        long number = numberLength == 1 ? b[4] : b[4] & (0x7F >> numberLength);
        for (var i = 5; i < 4 + numberLength; i++)
        {
            if ((b[i] & 0xC0) != 0x80)
            {
                return false;
            }
            number = (number << 6) | (uint)(b[i] & 0x3F);
        }
        var p = 4 + numberLength;
        var blockSize = blockCode switch
        {
            1 => 192,
            >= 2 and <= 5 => 576 << (blockCode - 2),
            6 => b[p++] + 1,
            7 => ((b[p++] << 8) | b[p++]) + 1,
            _ => 256 << (blockCode - 8),
        };
        var rate = rateCode switch
        {
            0 => info.SampleRate,
            1 => 88_200,
            2 => 176_400,
            3 => 192_000,
            4 => 8_000,
            5 => 16_000,
            6 => 22_050,
            7 => 24_000,
            8 => 32_000,
            9 => 44_100,
            10 => 48_000,
            11 => 96_000,
            12 => b[p++] * 1000,
            13 => (b[p++] << 8) | b[p++],
            _ => ((b[p++] << 8) | b[p++]) * 10,
        };
        var bits = sizeCode switch { 0 => info.BitsPerSample, 1 => 8, 2 => 12, 4 => 16, 5 => 20, 6 => 24, _ => 32 };
        if (Crc8(b[..p]) != b[p])
        {
            return false;
        }
        header = new FlacFrameHeader(blockSize, rate, assignment, bits, length, (b[1] & 1) != 0, number);
        return true;
    }

    /// <summary>CRC-8, polynomial x^8 + x^2 + x + 1, initial value 0 (the frame header's check).</summary>
    public static byte Crc8(ReadOnlySpan<byte> bytes)
    {
        var crc = 0;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;
            }
        }
        return (byte)crc;
    }

    /// <summary>CRC-16, polynomial x^16 + x^15 + x^2 + 1, initial value 0 (the whole frame's check).</summary>
    public static ushort Crc16(ReadOnlySpan<byte> bytes)
    {
        var table = Crc16Table;
        ushort crc = 0;
        foreach (var b in bytes)
        {
            crc = (ushort)((crc << 8) ^ table[(crc >> 8) ^ b]);
        }
        return crc;
    }

    private static readonly ushort[] Crc16Table = BuildCrc16();

    private static ushort[] BuildCrc16()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = i << 8;
            for (var j = 0; j < 8; j++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x8005 : crc << 1;
            }
            table[i] = (ushort)crc;
        }
        return table;
    }
}
