using System.Buffers.Binary;

namespace Tollgate.Audio.Probes;

/// <summary>
/// WebM / Matroska: EBML elements walked by id and size. Duration is Info's <c>Duration</c> × <c>TimecodeScale</c>;
/// files written live (MediaRecorder) often have none, and then it is the last block's timestamp (cluster timecode +
/// block offset) plus one frame of the audio codec (Opus 20 ms; otherwise the block's own duration, when given).
/// </summary>
internal static class MatroskaProbe
{
    private const int MaxElements = 2_000_000;
    private const int MaxDepth = 12;
    private const long UnknownSize = -1;
    private const int MaxSampleRate = 10_000_000;
    private const int MaxChannels = 1024;

    private sealed class State
    {
        public int Elements;
        public long TimecodeScale = 1_000_000;
        public double Duration = -1;
        public string? Codec;
        public int Rate;
        public int Channels;
        public long ClusterTimecode;
        public long LastBlockEnd = -1;
        public long TrackType;
        public string? TrackCodec;
        public long BlockDuration;

        /// <summary>Set once the header said everything: Info's Duration and the audio track were read before any cluster.</summary>
        public bool Complete;
    }

    private const uint Ebml = 0x1A45DFA3, Segment = 0x18538067, Info = 0x1549A966, TimecodeScale = 0x2AD7B1, Duration = 0x4489,
        Tracks = 0x1654AE6B, TrackEntry = 0xAE, TrackType = 0x83, CodecId = 0x86, Audio = 0xE1, SamplingFrequency = 0xB5,
        Channels = 0x9F, Cluster = 0x1F43B675, Timecode = 0xE7, SimpleBlock = 0xA3, BlockGroup = 0xA0, Block = 0xA1, BlockDurationId = 0x9B;

    private static readonly uint[] Masters = [Segment, Info, Tracks, TrackEntry, Audio, Cluster, BlockGroup];

    public static ProbeResult Probe(ProbeSource source)
    {
        var state = new State();
        Walk(source, 0, source.Length, 0, state);
        double ms;
        if (state.Duration > 0)
        {
            // Info's Duration is a float: NaN, infinite or beyond any real file is refused by ProbeMath.
            ms = state.Duration * state.TimecodeScale / 1_000_000d;
        }
        else if (state.LastBlockEnd >= 0)
        {
            ms = state.LastBlockEnd * (double)state.TimecodeScale / 1_000_000d;
        }
        else
        {
            throw new ProbeException();
        }
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Matroska, state.Codec ?? "unknown", ProbeMath.Milliseconds(ms), state.Rate, state.Channels));
    }

    private static void Walk(ProbeSource source, long start, long end, int depth, State state)
    {
        if (depth > MaxDepth)
        {
            throw new ProbeException();
        }
        var position = start;
        Span<byte> b = stackalloc byte[16];
        while (position < end)
        {
            if (++state.Elements > MaxElements)
            {
                throw new ProbeException();
            }
            var read = source.ReadAt(position, b[..(int)Math.Min(16, end - position)]);
            if (read < 2 || !TryVint(b[..read], keepMarker: true, out var id, out var idLength) || !TryVint(b[idLength..read], keepMarker: false, out var size, out var sizeLength))
            {
                if (depth == 0 || read < 2)
                {
                    return; // trailing bytes of a file cut short
                }
                throw new ProbeException();
            }
            var body = position + idLength + sizeLength;
            var unknown = size == UnknownSize;
            var bodyEnd = unknown ? end : body + size;
            if (bodyEnd > end || bodyEnd < body)
            {
                if ((uint)id is Cluster or Segment || depth <= 1)
                {
                    bodyEnd = end; // a file cut short: read what is there
                }
                else
                {
                    throw new ProbeException();
                }
            }
            if (depth == 0 && position == start && (uint)id != Ebml)
            {
                throw new ProbeException();
            }
            if ((uint)id == Cluster && state.Duration > 0 && state.Codec is not null)
            {
                // The header gave the duration and the track: the clusters (the media) need not be walked.
                state.Complete = true;
            }
            if (state.Complete)
            {
                return;
            }
            if (Array.IndexOf(Masters, (uint)id) >= 0)
            {
                if ((uint)id == TrackEntry)
                {
                    state.TrackType = 0;
                    state.TrackCodec = null;
                }
                if ((uint)id == BlockGroup)
                {
                    state.BlockDuration = 0;
                }
                Walk(source, body, bodyEnd, depth + 1, state);
                if ((uint)id == TrackEntry && state.TrackType == 2 && state.Codec is null)
                {
                    state.Codec = CodecName(state.TrackCodec);
                }
                if (unknown)
                {
                    return; // an unknown-size element runs to its parent's end: its children were all read
                }
            }
            else
            {
                Leaf(source, (uint)id, body, bodyEnd, state);
            }
            position = bodyEnd;
        }
    }

    private static void Leaf(ProbeSource source, uint id, long body, long end, State state)
    {
        var length = end - body;
        Span<byte> b = stackalloc byte[8];
        var data = b[..(int)Math.Min(8, length)];
        source.ReadAt(body, data);
        switch (id)
        {
            case TimecodeScale when length is > 0 and <= 8:
                state.TimecodeScale = (long)UInt(data);
                if (state.TimecodeScale <= 0)
                {
                    throw new ProbeException();
                }
                break;
            case Duration when length == 4:
                state.Duration = BinaryPrimitives.ReadSingleBigEndian(data);
                break;
            case Duration when length == 8:
                state.Duration = BinaryPrimitives.ReadDoubleBigEndian(data);
                break;
            case TrackType when length is > 0 and <= 8:
                state.TrackType = (long)UInt(data);
                break;
            case CodecId when length is > 0 and < 64:
                Span<byte> name = stackalloc byte[(int)length];
                source.ReadAt(body, name);
                state.TrackCodec = System.Text.Encoding.ASCII.GetString(name).TrimEnd('\0').Trim();
                if (state.TrackType == 2 || state.Codec is null)
                {
                    state.Codec ??= state.TrackType == 2 ? CodecName(state.TrackCodec) : null;
                }
                break;
            case SamplingFrequency when length is 4 or 8:
                var frequency = length == 4 ? BinaryPrimitives.ReadSingleBigEndian(data) : BinaryPrimitives.ReadDoubleBigEndian(data);
                // A float the file chose: NaN, negative or absurd is not a rate (and would not survive the cast to int).
                state.Rate = frequency is >= 1 and <= MaxSampleRate ? (int)frequency : throw new ProbeException();
                break;
            case Channels when length is > 0 and <= 8:
                state.Channels = UInt(data) is >= 1 and <= MaxChannels and var channels ? (int)channels : throw new ProbeException();
                break;
            case Timecode when length is > 0 and <= 8:
                state.ClusterTimecode = UInt(data) is <= long.MaxValue / 2 and var timecode ? (long)timecode : throw new ProbeException();
                break;
            case BlockDurationId when length is > 0 and <= 8:
                state.BlockDuration = UInt(data) is <= long.MaxValue / 4 and var blockDuration ? (long)blockDuration : throw new ProbeException();
                break;
            case SimpleBlock or Block when length >= 4:
                Span<byte> head = stackalloc byte[12];
                var read = source.ReadAt(body, head[..(int)Math.Min(12, length)]);
                if (!TryVint(head[..read], keepMarker: false, out _, out var trackLength) || trackLength + 2 > read)
                {
                    throw new ProbeException();
                }
                var relative = BinaryPrimitives.ReadInt16BigEndian(head[trackLength..]);
                var frame = state.BlockDuration > 0 ? state.BlockDuration
                    : state.Codec == "opus" ? 20_000_000 / state.TimecodeScale : 0;
                state.LastBlockEnd = Math.Max(state.LastBlockEnd, checked(state.ClusterTimecode + relative + frame));
                break;
        }
    }

    private static string CodecName(string? id) => id switch
    {
        "A_OPUS" => "opus",
        "A_VORBIS" => "vorbis",
        "A_FLAC" => "flac",
        "A_MPEG/L3" => "mp3",
        "A_AC3" => "ac3",
        null or "" => "unknown", // a CodecID of NULs (fuzzing found one) names nothing
        _ when id.StartsWith("A_AAC", StringComparison.Ordinal) => "aac",
        _ when id.StartsWith("A_PCM", StringComparison.Ordinal) => "pcm",
        _ => id,
    };

    private static ulong UInt(ReadOnlySpan<byte> data)
    {
        ulong value = 0;
        foreach (var b in data)
        {
            value = (value << 8) | b;
        }
        return value;
    }

    /// <summary>An EBML variable-length integer: ids keep their length marker, sizes do not (all ones = unknown size).</summary>
    private static bool TryVint(ReadOnlySpan<byte> b, bool keepMarker, out long value, out int length)
    {
        value = 0;
        length = 0;
        if (b.IsEmpty || b[0] == 0)
        {
            return false;
        }
        length = System.Numerics.BitOperations.LeadingZeroCount((uint)b[0]) - 23;
        if (length > (keepMarker ? 4 : 8) || length > b.Length)
        {
            return false;
        }
        ulong raw = keepMarker ? b[0] : (ulong)(b[0] & (0xFF >> length));
        var allOnes = raw == (ulong)(0xFF >> length);
        for (var i = 1; i < length; i++)
        {
            raw = (raw << 8) | b[i];
            allOnes &= b[i] == 0xFF;
        }
        value = !keepMarker && allOnes ? UnknownSize : (long)raw;
        return true;
    }
}
