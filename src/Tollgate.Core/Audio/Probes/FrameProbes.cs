using System.Buffers.Binary;

namespace Tollgate.Audio.Probes;

/// <summary>Formats made of self-describing frames (MP3, ADTS AAC, AMR) and FLAC's STREAMINFO.</summary>
internal static class FrameProbes
{
    /// <summary>An upper bound on frames walked: 10 million MP3 frames is over 70 hours.</summary>
    private const int MaxFrames = 10_000_000;

    private static readonly int[][] Mp3Bitrates =
    [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0], // MPEG-1 layer I
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0],    // MPEG-1 layer II
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0],     // MPEG-1 layer III
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0],    // MPEG-2/2.5 layer I
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0],         // MPEG-2/2.5 layers II, III
    ];

    private static readonly int[] AdtsRates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

    public static ProbeResult Flac(ProbeSource source, long start)
    {
        Span<byte> b = stackalloc byte[4 + 4 + 18];
        if (!source.TryRead(start, b) || (b[4] & 0x7F) != 0)
        {
            throw new ProbeException();
        }
        var info = b[8..];
        var rate = (info[10] << 12) | (info[11] << 4) | (info[12] >> 4);
        var channels = ((info[12] >> 1) & 0x07) + 1;
        var total = ((long)(info[13] & 0x0F) << 32) | BinaryPrimitives.ReadUInt32BigEndian(info[14..]);
        // A stream written without knowing its length has total 0: its duration cannot be read from the header.
        if (rate == 0 || total == 0)
        {
            throw new ProbeException();
        }
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Flac, "flac", total * 1000 / rate, rate, channels));
    }

    private readonly record struct Mp3Frame(int Length, int Samples, int Rate, int Channels, int Version, int Layer);

    private static bool TryMp3Header(ReadOnlySpan<byte> h, out Mp3Frame frame)
    {
        frame = default;
        if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
        {
            return false;
        }
        var version = (h[1] >> 3) & 3; // 0 = 2.5, 2 = 2, 3 = 1
        var layer = (h[1] >> 1) & 3;   // 1 = III, 2 = II, 3 = I
        var bitrateIndex = h[2] >> 4;
        var rateIndex = (h[2] >> 2) & 3;
        if (version == 1 || layer == 0 || bitrateIndex is 0 or 15 || rateIndex == 3)
        {
            return false;
        }
        int[] baseRates = [44100, 48000, 32000];
        var rate = baseRates[rateIndex] >> (version == 3 ? 0 : version == 2 ? 1 : 2);
        var table = version == 3 ? 3 - layer : layer == 3 ? 3 : 4;
        var bitrate = Mp3Bitrates[table][bitrateIndex] * 1000;
        var padding = (h[2] >> 1) & 1;
        int samples, length;
        if (layer == 3)
        {
            samples = 384;
            length = (12 * bitrate / rate + padding) * 4;
        }
        else
        {
            samples = layer == 1 && version != 3 ? 576 : 1152;
            length = samples / 8 * bitrate / rate + padding;
        }
        frame = new Mp3Frame(length, samples, rate, (h[3] >> 6) == 3 ? 1 : 2, version, layer);
        return length >= 4;
    }

    /// <summary>Finds the first MP3 frame at or after <paramref name="start"/> that two more valid frames follow.</summary>
    public static bool LooksLikeMp3(ProbeSource source, long start, out long first)
    {
        Span<byte> window = stackalloc byte[4096];
        var count = source.ReadAt(start, window);
        Span<byte> h = stackalloc byte[4];
        for (var i = 0; i + 4 <= count; i++)
        {
            if (TryMp3Header(window[i..], out var frame))
            {
                var next = start + i + frame.Length;
                var ok = true;
                for (var k = 0; k < 2 && ok && next < source.Length - 128; k++)
                {
                    if (!source.TryRead(next, h) || !TryMp3Header(h, out var following) || following.Rate != frame.Rate)
                    {
                        ok = false;
                    }
                    else
                    {
                        next += following.Length;
                    }
                }
                if (ok && next <= source.Length)
                {
                    first = start + i;
                    return true;
                }
            }
        }
        first = -1;
        return false;
    }

    /// <summary>
    /// The encoder delay and end padding a LAME tag (right after the Xing/Info fields) records, in samples: the frames
    /// hold that much more than the audio that was encoded. 0 without a LAME tag, or when the figures cannot be right.
    /// </summary>
    private static long GaplessTrim(ProbeSource source, long xing, ReadOnlySpan<byte> tag, long encoded)
    {
        var flags = tag[7];
        var offset = 8 + ((flags & 1) != 0 ? 4 : 0) + ((flags & 2) != 0 ? 4 : 0) + ((flags & 4) != 0 ? 100 : 0) + ((flags & 8) != 0 ? 4 : 0);
        Span<byte> lame = stackalloc byte[24];
        if (!source.TryRead(xing + offset, lame) || !(lame[..4].SequenceEqual("LAME"u8) || lame[..4].SequenceEqual("Lavc"u8) || lame[..4].SequenceEqual("Lavf"u8)))
        {
            return 0;
        }
        var delay = (lame[21] << 4) | (lame[22] >> 4);
        var padding = ((lame[22] & 0x0F) << 8) | lame[23];
        return delay + padding < encoded ? delay + padding : 0;
    }

    public static ProbeResult Mp3(ProbeSource source, long first)
    {
        Span<byte> h = stackalloc byte[4];
        source.TryRead(first, h);
        TryMp3Header(h, out var frame);
        // Xing/Info (after the side information) or VBRI (32 bytes in) carry the frame count of the whole file.
        var sideInfo = frame.Version == 3 ? (frame.Channels == 1 ? 17 : 32) : (frame.Channels == 1 ? 9 : 17);
        Span<byte> tag = stackalloc byte[12];
        if (frame.Layer == 1 && source.TryRead(first + 4 + sideInfo, tag)
            && (tag[..4].SequenceEqual("Xing"u8) || tag[..4].SequenceEqual("Info"u8)) && (tag[7] & 1) != 0)
        {
            var frames = BinaryPrimitives.ReadUInt32BigEndian(tag[8..]);
            var total = frames * (long)frame.Samples - GaplessTrim(source, first + 4 + sideInfo, tag, frames * (long)frame.Samples);
            return ProbeResult.Ok(new AudioInfo(AudioContainer.Mp3, "mp3", total * 1000 / frame.Rate, frame.Rate, frame.Channels));
        }
        Span<byte> vbri = stackalloc byte[18];
        if (source.TryRead(first + 36, vbri) && vbri[..4].SequenceEqual("VBRI"u8))
        {
            var frames = BinaryPrimitives.ReadUInt32BigEndian(vbri[14..]);
            return ProbeResult.Ok(new AudioInfo(AudioContainer.Mp3, "mp3", frames * (long)frame.Samples * 1000 / frame.Rate, frame.Rate, frame.Channels));
        }
        // No index: walk the frames.
        long samples = 0;
        var position = first;
        for (var i = 0; i < MaxFrames && source.TryRead(position, h) && TryMp3Header(h, out var f); i++)
        {
            if (position + f.Length > source.Length)
            {
                break;
            }
            samples += f.Samples;
            position += f.Length;
        }
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Mp3, "mp3", samples * 1000 / frame.Rate, frame.Rate, frame.Channels));
    }

    public static bool IsAdts(ReadOnlySpan<byte> h) =>
        h.Length >= 7 && h[0] == 0xFF && (h[1] & 0xF6) == 0xF0 && ((h[2] >> 2) & 0x0F) < AdtsRates.Length;

    public static ProbeResult Adts(ProbeSource source, long start)
    {
        Span<byte> h = stackalloc byte[7];
        long samples = 0;
        int rate = 0, channels = 0, frames = 0;
        var position = start;
        while (frames < MaxFrames && source.TryRead(position, h) && IsAdts(h))
        {
            var length = ((h[3] & 0x03) << 11) | (h[4] << 3) | (h[5] >> 5);
            if (length < 7 || position + length > source.Length)
            {
                break;
            }
            rate = AdtsRates[(h[2] >> 2) & 0x0F];
            channels = ((h[2] & 1) << 2) | (h[3] >> 6);
            samples += ((h[6] & 0x03) + 1) * 1024;
            position += length;
            frames++;
        }
        if (frames == 0)
        {
            throw new ProbeException();
        }
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Adts, "aac", samples * 1000 / rate, rate, channels));
    }

    private static readonly int[] AmrNbSizes = [12, 13, 15, 17, 19, 20, 26, 31, 5, -1, -1, -1, -1, -1, -1, 0];
    private static readonly int[] AmrWbSizes = [17, 23, 32, 36, 40, 46, 50, 58, 60, 5, -1, -1, -1, -1, 0, 0];

    /// <summary>AMR storage format (RFC 4867 §5): a magic line, then frames of 20 ms, each a header byte and its speech bits.</summary>
    public static ProbeResult Amr(ProbeSource source, bool wideband)
    {
        var sizes = wideband ? AmrWbSizes : AmrNbSizes;
        long position = wideband ? 9 : 6;
        long frames = 0;
        Span<byte> buffer = stackalloc byte[4096];
        while (position < source.Length && frames < MaxFrames)
        {
            var count = source.ReadAt(position, buffer);
            var i = 0;
            while (i < count)
            {
                var size = sizes[(buffer[i] >> 3) & 0x0F];
                if (size < 0)
                {
                    throw new ProbeException();
                }
                if (position + i + 1 + size > source.Length)
                {
                    // A truncated last frame is not audio.
                    position = source.Length;
                    i = count;
                    break;
                }
                i += 1 + size;
                frames++;
            }
            position += i;
        }
        var rate = wideband ? 16000 : 8000;
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Amr, wideband ? "amr_wb" : "amr_nb", frames * 20, rate, 1));
    }
}
