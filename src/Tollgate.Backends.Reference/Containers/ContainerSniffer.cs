namespace Tollgate.Backends.Reference.Containers;

/// <summary>What the first bytes of a stream look like.</summary>
internal enum SniffedContainer
{
    /// <summary>No known signature (raw samples look like this).</summary>
    Unknown,
    Wav,
    Aiff,
    Au,
    /// <summary>A compressed container or codec with an unmistakable signature (Ogg, FLAC, MP3 with ID3, MP4, Matroska, AMR, ASF).</summary>
    Compressed,
}

/// <summary>Recognises containers by their magic bytes. Only unambiguous signatures count, so raw PCM is never mistaken for a container.</summary>
internal static class ContainerSniffer
{
    /// <summary>Bytes needed for a verdict.</summary>
    public const int HeadBytes = 12;

    private static ReadOnlySpan<byte> AsfGuid => [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11];

    private static ReadOnlySpan<byte> Ebml => [0x1A, 0x45, 0xDF, 0xA3];

    public static SniffedContainer Identify(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 12 && (head.StartsWith("RIFF"u8) || head.StartsWith("RF64"u8)) && head[8..12].SequenceEqual("WAVE"u8))
        {
            return SniffedContainer.Wav;
        }
        if (head.Length >= 12 && head.StartsWith("FORM"u8) && (head[8..12].SequenceEqual("AIFF"u8) || head[8..12].SequenceEqual("AIFC"u8)))
        {
            return SniffedContainer.Aiff;
        }
        if (head.StartsWith(".snd"u8))
        {
            return SniffedContainer.Au;
        }
        if (head.StartsWith("OggS"u8) || head.StartsWith("fLaC"u8) || head.StartsWith("ID3"u8) || head.StartsWith("#!AMR"u8)
            || head.StartsWith(Ebml) || head.StartsWith(AsfGuid) || (head.Length >= 8 && head[4..8].SequenceEqual("ftyp"u8)))
        {
            return SniffedContainer.Compressed;
        }
        return SniffedContainer.Unknown;
    }
}
