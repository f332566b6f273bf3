using System.Buffers.Binary;

namespace Tollgate.Audio.Probes;

/// <summary>
/// ISO base media (MP4, M4A, MOV, 3GP): walks the box tree without reading media data. Duration comes from the audio
/// track's <c>mdhd</c>, else the movie's <c>mvhd</c>, else (fragmented files) <c>mehd</c> or the sum of the fragments'
/// sample durations.
/// </summary>
internal static class Mp4Probe
{
    private const int MaxBoxes = 100_000;
    private const int MaxDepth = 16;

    private static readonly string[] Containers = ["moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "edts"];

    private sealed class State
    {
        public int Boxes;
        public long MovieDuration;
        public long MovieScale;
        public long FragmentDuration;
        public long AudioDuration = -1;
        public long AudioPresentation;
        public long TrackPresentation;
        public long AudioScale;
        public string? Codec;
        public int Rate;
        public int Channels;
        public bool TrackIsAudio;
        public long TrackDuration;
        public long TrackScale;
        public long DefaultSampleDuration;
        public long FragmentSamples;
        public bool SawMoov;
    }

    public static ProbeResult Probe(ProbeSource source)
    {
        var state = new State();
        Walk(source, 0, source.Length, 0, state);
        if (!state.SawMoov)
        {
            throw new ProbeException();
        }
        long ms;
        if (state.AudioPresentation > 0 && state.MovieScale > 0)
        {
            // The track header's duration is the edit list applied: the encoder's priming samples are not played.
            ms = ProbeMath.Milliseconds(state.AudioPresentation, state.MovieScale);
        }
        else if (state.AudioDuration > 0 && state.AudioScale > 0)
        {
            ms = ProbeMath.Milliseconds(state.AudioDuration, state.AudioScale);
        }
        else if (state.MovieDuration > 0 && state.MovieScale > 0 && state.MovieDuration != uint.MaxValue)
        {
            ms = ProbeMath.Milliseconds(state.MovieDuration, state.MovieScale);
        }
        else if (state.FragmentDuration > 0 && state.MovieScale > 0)
        {
            ms = ProbeMath.Milliseconds(state.FragmentDuration, state.MovieScale);
        }
        else if (state.FragmentSamples > 0 && state.AudioScale > 0)
        {
            ms = ProbeMath.Milliseconds(state.FragmentSamples, state.AudioScale);
        }
        else
        {
            throw new ProbeException();
        }
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Mp4, state.Codec ?? "unknown", ms, state.Rate, state.Channels));
    }

    private static void Walk(ProbeSource source, long start, long end, int depth, State state)
    {
        if (depth > MaxDepth)
        {
            throw new ProbeException();
        }
        Span<byte> header = stackalloc byte[16];
        var position = start;
        while (position + 8 <= end)
        {
            if (++state.Boxes > MaxBoxes || !source.TryRead(position, header[..8]))
            {
                throw new ProbeException();
            }
            long size = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = System.Text.Encoding.ASCII.GetString(header[4..8]);
            var headerSize = 8;
            if (size == 1)
            {
                if (!source.TryRead(position + 8, header[8..16]))
                {
                    throw new ProbeException();
                }
                var large = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
                size = large > long.MaxValue ? -1 : (long)large;
                headerSize = 16;
            }
            else if (size == 0)
            {
                size = end - position;
            }
            if (size < headerSize || position + size > end)
            {
                // The last top-level box of a file being written may run past the end (mdat): stop there.
                if (depth == 0 && type == "mdat")
                {
                    return;
                }
                throw new ProbeException();
            }
            var body = position + headerSize;
            var bodyEnd = position + size;
            if (type == "moov")
            {
                state.SawMoov = true;
            }
            if (type == "trak")
            {
                state.TrackIsAudio = false;
                state.TrackDuration = 0;
                state.TrackScale = 0;
                state.TrackPresentation = 0;
            }
            if (Array.IndexOf(Containers, type) >= 0)
            {
                Walk(source, body, bodyEnd, depth + 1, state);
                if (type == "trak" && state.TrackIsAudio && state.AudioDuration < 0)
                {
                    state.AudioDuration = state.TrackDuration;
                    state.AudioScale = state.TrackScale;
                    state.AudioPresentation = state.TrackPresentation;
                }
                if (depth == 0 && type == "moov" && source.Partial && DecidedByMoov(state))
                {
                    // A prefix whose moov said the duration: what follows (the media, fragments) changes nothing.
                    return;
                }
            }
            else
            {
                Leaf(source, type, body, bodyEnd, state);
            }
            position = bodyEnd;
        }
    }

    /// <summary>Whether the first choices of <see cref="Probe"/> (all read from the moov) already hold.</summary>
    private static bool DecidedByMoov(State state) =>
        (state.AudioPresentation > 0 && state.MovieScale > 0)
        || (state.AudioDuration > 0 && state.AudioScale > 0)
        || (state.MovieDuration > 0 && state.MovieScale > 0 && state.MovieDuration != uint.MaxValue)
        || (state.FragmentDuration > 0 && state.MovieScale > 0);

    private static void Leaf(ProbeSource source, string type, long body, long end, State state)
    {
        Span<byte> b = stackalloc byte[36];
        var length = (int)Math.Min(b.Length, end - body);
        var read = source.ReadAt(body, b[..length]);
        var data = b[..read];
        switch (type)
        {
            case "mvhd" or "mdhd" when data.Length >= 20:
                var v1 = data[0] == 1;
                if (v1 && data.Length < 32)
                {
                    throw new ProbeException();
                }
                var scale = v1 ? BinaryPrimitives.ReadUInt32BigEndian(data[20..]) : BinaryPrimitives.ReadUInt32BigEndian(data[12..]);
                var duration = v1 ? (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(data[24..]), long.MaxValue / 1000) : BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
                if (type == "mvhd")
                {
                    state.MovieScale = scale;
                    state.MovieDuration = duration;
                }
                else
                {
                    state.TrackScale = scale;
                    state.TrackDuration = duration;
                }
                break;
            case "tkhd" when data.Length >= 24:
                // v0: duration (movie timescale) at 20; v1: 64-bit at 28. All ones means unknown.
                var presentation = data[0] == 1
                    ? data.Length >= 36 ? BinaryPrimitives.ReadUInt64BigEndian(data[28..]) : ulong.MaxValue
                    : BinaryPrimitives.ReadUInt32BigEndian(data[20..]) is var d32 && d32 != uint.MaxValue ? d32 : ulong.MaxValue;
                state.TrackPresentation = presentation < long.MaxValue / 1000 ? (long)presentation : 0;
                break;
            case "hdlr" when data.Length >= 12 && !data[4..8].SequenceEqual("dhlr"u8):
                // MOV also has a data-reference handler ('dhlr') inside minf: it says nothing about the media.
                state.TrackIsAudio = data[8..12].SequenceEqual("soun"u8);
                break;
            case "stsd" when data.Length >= 36 && state.TrackIsAudio && state.Codec is null:
                var entry = System.Text.Encoding.ASCII.GetString(data[12..16]);
                state.Codec = entry switch
                {
                    "mp4a" => "aac",
                    "alac" => "alac",
                    "samr" => "amr_nb",
                    "sawb" => "amr_wb",
                    "Opus" => "opus",
                    "fLaC" => "flac",
                    ".mp3" or "mp3 " => "mp3",
                    "ac-3" => "ac3",
                    "ec-3" => "eac3",
                    "lpcm" or "sowt" or "twos" => "pcm",
                    _ => entry.Trim() is { Length: > 0 } named ? named : "unknown",
                };
                Span<byte> audio = stackalloc byte[36];
                if (source.TryRead(body + 8, audio))
                {
                    state.Channels = BinaryPrimitives.ReadUInt16BigEndian(audio[24..]);
                    state.Rate = BinaryPrimitives.ReadUInt16BigEndian(audio[32..]);
                }
                break;
            case "mehd" when data.Length >= 8:
                state.FragmentDuration = data[0] == 1 && data.Length >= 12
                    ? (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(data[4..]), long.MaxValue / 1000)
                    : BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                break;
            case "tfhd" when data.Length >= 8:
                var flags = (data[1] << 16) | (data[2] << 8) | data[3];
                var offset = 8 + ((flags & 0x01) != 0 ? 8 : 0) + ((flags & 0x02) != 0 ? 4 : 0);
                if ((flags & 0x08) != 0 && data.Length >= offset + 4)
                {
                    state.DefaultSampleDuration = BinaryPrimitives.ReadUInt32BigEndian(data[offset..]);
                }
                break;
            case "trun" when data.Length >= 8:
                state.FragmentSamples = ProbeMath.Add(state.FragmentSamples, TrunDuration(source, body, end, state.DefaultSampleDuration));
                break;
        }
    }

    /// <summary>The sum of a track run's sample durations (per-sample when given, else the fragment's default).</summary>
    private static long TrunDuration(ProbeSource source, long body, long end, long defaultDuration)
    {
        Span<byte> h = stackalloc byte[8];
        source.TryRead(body, h);
        var flags = (h[1] << 16) | (h[2] << 8) | h[3];
        var count = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        if ((flags & 0x100) == 0)
        {
            return checked(count * defaultDuration); // up to 2^64: more than a long holds
        }
        var position = body + 8 + ((flags & 0x01) != 0 ? 4 : 0) + ((flags & 0x04) != 0 ? 4 : 0);
        var stride = 4 + ((flags & 0x200) != 0 ? 4 : 0) + ((flags & 0x400) != 0 ? 4 : 0) + ((flags & 0x800) != 0 ? 4 : 0);
        if (position + (long)count * stride > end)
        {
            throw new ProbeException();
        }
        long total = 0;
        Span<byte> d = stackalloc byte[4];
        for (var i = 0; i < count; i++, position += stride)
        {
            source.TryRead(position, d);
            total += BinaryPrimitives.ReadUInt32BigEndian(d); // at most 2^32 a sample, and fewer than 2^31 samples fit in the box
        }
        return total;
    }
}
