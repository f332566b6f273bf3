using System.Buffers;
using System.Buffers.Binary;

namespace Tollgate.Audio.Probes;

/// <summary>
/// Ogg Vorbis, Opus and FLAC: the first page's identification header gives the rate (and Opus its pre-skip); the
/// last page of the same stream gives the final granule position, i.e. the sample count. The tail is searched
/// backwards in a bounded window, never the whole file.
/// </summary>
internal static class OggProbe
{
    private const int MaxTail = 1 << 20;

    public static ProbeResult Probe(ProbeSource source)
    {
        Span<byte> page = stackalloc byte[27 + 255];
        if (!source.TryRead(0, page[..27]) || page[4] != 0)
        {
            throw new ProbeException();
        }
        var serial = BinaryPrimitives.ReadUInt32LittleEndian(page[14..]);
        var segments = page[26];
        var bodyStart = 27 + segments;
        Span<byte> packet = stackalloc byte[64];
        var read = source.ReadAt(bodyStart, packet);
        packet = packet[..read];
        int rate, channels, preSkip = 0;
        string codec;
        if (packet.Length >= 16 && packet[0] == 1 && packet[1..7].SequenceEqual("vorbis"u8))
        {
            channels = packet[11];
            rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(packet[12..]);
            codec = "vorbis";
        }
        else if (packet.Length >= 19 && packet[..8].SequenceEqual("OpusHead"u8))
        {
            channels = packet[9];
            preSkip = BinaryPrimitives.ReadUInt16LittleEndian(packet[10..]);
            rate = 48000; // Opus granule positions always count 48 kHz samples.
            codec = "opus";
        }
        else if (packet.Length >= 51 && packet[0] == 0x7F && packet[1..5].SequenceEqual("FLAC"u8) && packet[9..13].SequenceEqual("fLaC"u8))
        {
            // 0x7F "FLAC", version (2 bytes), header count (2), "fLaC", the STREAMINFO block's header (4), STREAMINFO.
            var info = packet[17..];
            rate = (info[10] << 12) | (info[11] << 4) | (info[12] >> 4);
            channels = ((info[12] >> 1) & 0x07) + 1;
            codec = "flac";
        }
        else
        {
            throw new ProbeException();
        }
        if (rate <= 0 || channels <= 0)
        {
            throw new ProbeException();
        }
        var granule = LastGranule(source, serial);
        if (granule < 0)
        {
            throw new ProbeException();
        }
        var samples = Math.Max(0, granule - preSkip);
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Ogg, codec, ProbeMath.Milliseconds(samples, rate), codec == "opus" ? 48000 : rate, channels));
    }

    /// <summary>
    /// The granule position of the stream's last page: page headers are searched backwards from the end in 64 KB
    /// steps (a page is at most 65,307 bytes, so the first step nearly always finds it), at most <see cref="MaxTail"/>.
    /// </summary>
    private static long LastGranule(ProbeSource source, uint serial)
    {
        const int Step = 64 * 1024;
        const int Header = 27;
        var buffer = ArrayPool<byte>.Shared.Rent(Step + Header);
        try
        {
            var floor = Math.Max(0, source.Length - MaxTail);
            var end = source.Length;
            while (end > floor)
            {
                // Each window reaches Header bytes past the previous one's start, so no header straddles two windows unseen.
                var start = Math.Max(floor, end - Step);
                var length = (int)(Math.Min(source.Length, end + Header) - start);
                var window = buffer.AsSpan(0, length);
                if (!source.TryRead(start, window))
                {
                    return -1;
                }
                for (var i = Math.Min((int)(end - start), length - Header); i >= 0; i--)
                {
                    if (window[i] == 'O' && window[i + 1] == 'g' && window[i + 2] == 'g' && window[i + 3] == 'S' && window[i + 4] == 0
                        && BinaryPrimitives.ReadUInt32LittleEndian(window[(i + 14)..]) == serial)
                    {
                        var granule = BinaryPrimitives.ReadInt64LittleEndian(window[(i + 6)..]);
                        if (granule >= 0)
                        {
                            return granule;
                        }
                    }
                }
                end = start;
            }
            return -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
