namespace Tollgate.Backends.Reference.Codecs.Mp3;

/// <summary>
/// A 4-byte MPEG audio frame header (MPEG 1, 2 and 2.5, layers I-III): version, layer, bit rate, rate, padding and
/// channel mode, and the frame's length in bytes. Free-format streams (bit-rate index 0) have no computable length
/// and are not accepted. <see cref="Version"/> is 1 (MPEG 1), 2 (MPEG 2) or 25 (MPEG 2.5); <see cref="Layer"/> 1 to 3.
/// </summary>
internal readonly record struct Mp3FrameHeader(int Version, int Layer, int BitRate, int SampleRate, int SampleRateIndex,
    int BitRateIndex, bool HasCrc, bool Padding, int ChannelMode, int ModeExtension, bool Copyright, int Length)
{
    public const int Size = 4;

    /// <summary>The longest frame: layer II/III MPEG 1 at 384 kbit/s and 8 kHz-family padding can not exceed this.</summary>
    public const int MaxLength = 2881;

    private static readonly int[][] BitRates =
    [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // MPEG 1 layer I
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // MPEG 1 layer II
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // MPEG 1 layer III
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256], // MPEG 2/2.5 layer I
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // MPEG 2/2.5 layers II and III
    ];

    /// <summary>Samples per channel in one frame.</summary>
    public int SampleCount => Layer switch
    {
        1 => 384,
        2 => 1152,
        _ => Version == 1 ? 1152 : 576,
    };

    public int Channels => ChannelMode == 3 ? 1 : 2;

    /// <summary>Bytes of Layer III side information after the header (and its CRC).</summary>
    public int SideInfoLength => Version == 1 ? (Channels == 1 ? 17 : 32) : (Channels == 1 ? 9 : 17);

    /// <summary>Whether another frame's header belongs to the same stream (same version, layer and rate).</summary>
    public bool Matches(in Mp3FrameHeader other) =>
        other.Version == Version && other.Layer == Layer && other.SampleRate == SampleRate;

    public static bool TryParse(ReadOnlySpan<byte> b, out Mp3FrameHeader header)
    {
        header = default;
        if (b.Length < Size || b[0] != 0xFF || (b[1] & 0xE0) != 0xE0)
        {
            return false;
        }
        var versionBits = (b[1] >> 3) & 3;
        var layerBits = (b[1] >> 1) & 3;
        var bitRateIndex = b[2] >> 4;
        var rateIndex = (b[2] >> 2) & 3;
        if (versionBits == 1 || layerBits == 0 || bitRateIndex is 0 or 15 || rateIndex == 3 || (b[3] & 3) == 2)
        {
            return false;
        }
        var version = versionBits switch { 3 => 1, 2 => 2, _ => 25 };
        var layer = 4 - layerBits;
        var table = version == 1 ? layer - 1 : layer == 1 ? 3 : 4;
        var bitRate = BitRates[table][bitRateIndex] * 1000;
        var rate = rateIndex switch { 0 => 44100, 1 => 48000, _ => 32000 } / (version == 1 ? 1 : version == 2 ? 2 : 4);
        var padding = (b[2] & 2) != 0;
        var pad = padding ? 1 : 0;
        var length = layer switch
        {
            1 => (12 * bitRate / rate + pad) * 4,
            2 => 144 * bitRate / rate + pad,
            _ => (version == 1 ? 144 : 72) * bitRate / rate + pad,
        };
        header = new Mp3FrameHeader(version, layer, bitRate, rate, rateIndex, bitRateIndex, (b[1] & 1) == 0, padding,
            b[3] >> 6, (b[3] >> 4) & 3, (b[3] & 8) != 0, length);
        return length > Size;
    }
}
