using System.Buffers.Binary;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Codecs.Ogg;

namespace Tollgate.Backends.Reference.Codecs.Matroska;

/// <summary>
/// WebM/Matroska with Opus or Vorbis audio, fed in chunks. The EBML elements are read one by one: the segment, its
/// clusters, block groups, tracks and track entries are entered (so a live stream's unknown sizes need no special
/// case), the first audio track whose codec is <c>A_OPUS</c> or <c>A_VORBIS</c> is chosen from its entry (CodecPrivate
/// holds the OpusHead, or the three Vorbis headers in Xiph lacing), and its frames, from SimpleBlocks and Blocks in
/// any of the three lacings, go to the same codec classes Ogg uses. An Opus block's DiscardPadding trims the end.
/// Every other element is skipped without being held; the largest element held is <see cref="MaxElementBytes"/>.
/// </summary>
internal sealed class MatroskaDecoder : CompressedDecoder, IPacketHost, IDisposable
{
    public const int MaxElementBytes = 4 * 1024 * 1024;

    private const uint Segment = 0x18538067, Cluster = 0x1F43B675, BlockGroup = 0xA0, Tracks = 0x1654AE6B, TrackEntry = 0xAE,
        TrackNumber = 0xD7, TrackType = 0x83, CodecId = 0x86, CodecPrivate = 0x63A2, SimpleBlock = 0xA3, Block = 0xA1,
        DiscardPadding = 0x75A2, Ebml = 0x1A45DFA3;

    private readonly ByteQueue _queue = new(64 * 1024);
    private byte[] _element = [];
    private int _elementLength;
    private uint _elementId;
    private long _skip;
    private long _elementRemaining = -1;
    private bool _started;
    private Track _entry = new();
    private Track? _chosen;
    private bool _tracksDone;
    private OggCodec? _codec;
    private byte[]? _pendingBlock;
    private long _pendingDiscardNs;

    public override AudioContainer Container => AudioContainer.Matroska;

    public void Dispose() => _codec?.Dispose();

    void IPacketHost.StartAudio(int sampleRate) => Start(sampleRate);

    void IPacketHost.EmitAudio(ReadOnlySpan<float> mono) => Emit(mono);

    void IPacketHost.Fail(string problem) => Corrupt(problem);

    protected override void FeedCore(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && Healthy)
        {
            if (_skip > 0)
            {
                var skipped = (int)Math.Min(_skip, bytes.Length);
                _skip -= skipped;
                bytes = bytes[skipped..];
                continue;
            }
            if (_elementRemaining >= 0)
            {
                var take = (int)Math.Min(_elementRemaining, bytes.Length);
                bytes[..take].CopyTo(_element.AsSpan(_elementLength));
                _elementLength += take;
                _elementRemaining -= take;
                bytes = bytes[take..];
                if (_elementRemaining == 0)
                {
                    _elementRemaining = -1;
                    OnElement(_elementId, _element.AsSpan(0, _elementLength));
                }
                continue;
            }
            // Exactly the header's bytes: what follows it is the element's, read or skipped above.
            var taken = _queue.Append(bytes[..Math.Min(bytes.Length, HeaderBytesNeeded() - _queue.Count)]);
            bytes = bytes[taken..];
            ReadHeader();
        }
    }

    protected override void FinishCore()
    {
        if (!Healthy)
        {
            return;
        }
        if (_skip > 0 && _started)
        {
            // Cues, tags and the like are whole in a whole file: one that claims more than is left is damaged.
            Corrupt("the Matroska data ends inside an element it skips");
            return;
        }
        FlushBlock();
        if (_codec is null)
        {
            Unsupported(_started ? "no Opus or Vorbis audio track in the Matroska file" : "no EBML header");
            return;
        }
        // A file cut inside an element (a live recording stopped mid-cluster) keeps what came before it.
        _codec.Finish();
    }

    /// <summary>How many bytes the element header being read has, as far as its first bytes tell (at most 12).</summary>
    private int HeaderBytesNeeded()
    {
        var span = _queue.Span;
        if (span.Length == 0)
        {
            return 1;
        }
        var idLength = Math.Max(1, VintLength(span[0]));
        return span.Length <= idLength ? idLength + 1 : idLength + Math.Max(1, VintLength(span[idLength]));
    }

    /// <summary>Reads an element's ID and size from the queue (at most 12 bytes), then enters, reads or skips it.</summary>
    private void ReadHeader()
    {
        var span = _queue.Span;
        if (span.Length == 0)
        {
            return;
        }
        var idLength = VintLength(span[0]);
        if (idLength is 0 or > 4)
        {
            Fail("an invalid EBML element ID");
            return;
        }
        if (span.Length < idLength + 1)
        {
            return;
        }
        var sizeLength = VintLength(span[idLength]);
        if (sizeLength == 0)
        {
            Fail("an invalid EBML element size");
            return;
        }
        if (span.Length < idLength + sizeLength)
        {
            return;
        }
        uint id = 0;
        for (var i = 0; i < idLength; i++)
        {
            id = (id << 8) | span[i];
        }
        var size = (long)Vint(span.Slice(idLength, sizeLength), out var unknown);
        _queue.Consume(idLength + sizeLength);
        if (!_started)
        {
            if (id != Ebml)
            {
                Unsupported("no EBML header");
                return;
            }
            _started = true;
        }
        OnHeader(id, unknown ? -1 : size);
    }

    private void OnHeader(uint id, long size)
    {
        if (id is Segment or Cluster or BlockGroup or Tracks or TrackEntry)
        {
            if (id != BlockGroup)
            {
                FlushBlock();
            }
            if (id == TrackEntry)
            {
                EndEntry();
            }
            else if (id == Cluster)
            {
                EndTracks();
            }
            return; // Entered: its children follow.
        }
        if (size < 0)
        {
            Fail("an EBML element of unknown size that is not a container");
            return;
        }
        var wanted = id switch
        {
            SimpleBlock or Block => _tracksDone && _codec is not null,
            TrackNumber or TrackType or CodecId or CodecPrivate or DiscardPadding => !_tracksDone || id == DiscardPadding,
            _ => false,
        };
        if (id is SimpleBlock or Block)
        {
            FlushBlock();
        }
        if (!wanted)
        {
            _skip = size;
            return;
        }
        if (size > MaxElementBytes)
        {
            Fail($"a Matroska element of {size} bytes");
            return;
        }
        if (_element.Length < size)
        {
            _element = new byte[Math.Max(size, Math.Min(MaxElementBytes, _element.Length * 2L))];
        }
        _elementId = id;
        _elementLength = 0;
        _elementRemaining = size;
        if (size == 0)
        {
            _elementRemaining = -1;
            OnElement(id, []);
        }
    }

    private void OnElement(uint id, ReadOnlySpan<byte> value)
    {
        switch (id)
        {
            case TrackNumber:
                _entry.Number = (long)UInt(value);
                break;
            case TrackType:
                _entry.Type = (int)UInt(value);
                break;
            case CodecId:
                _entry.Codec = System.Text.Encoding.ASCII.GetString(value).TrimEnd('\0');
                break;
            case CodecPrivate:
                _entry.Private = value.ToArray();
                break;
            case DiscardPadding:
                _pendingDiscardNs = (long)UInt(value) << (64 - 8 * Math.Max(1, value.Length)) >> (64 - 8 * Math.Max(1, value.Length));
                break;
            default:
                _pendingBlock = value.ToArray();
                _pendingDiscardNs = 0;
                break;
        }
    }

    private void EndEntry()
    {
        if (_chosen is null && _entry.Type == 2 && _entry.Codec is "A_OPUS" or "A_VORBIS")
        {
            _chosen = _entry;
        }
        _entry = new Track();
    }

    private void EndTracks()
    {
        if (_tracksDone)
        {
            return;
        }
        EndEntry();
        _tracksDone = true;
        if (_chosen is not { Private: { } header } track)
        {
            Unsupported("no Opus or Vorbis audio track in the Matroska file");
            return;
        }
        if (track.Codec == "A_OPUS")
        {
            _codec = new OggOpus(this);
            _codec.OnPacket(header, false, null, false);
            _codec.OnPacket("OpusTags"u8.ToArray().Concat(new byte[8]).ToArray(), false, null, false);
            return;
        }
        _codec = new OggVorbis(this);
        foreach (var packet in XiphHeaders(header))
        {
            _codec.OnPacket(packet, false, null, false);
        }
    }

    /// <summary>Vorbis's CodecPrivate: a packet count minus one, the first packets' sizes in Xiph lacing, then the packets.</summary>
    private List<byte[]> XiphHeaders(byte[] data)
    {
        var packets = new List<byte[]>();
        if (data.Length < 1 || data[0] != 2)
        {
            Fail("a Vorbis CodecPrivate without three headers");
            return packets;
        }
        var at = 1;
        var sizes = new int[2];
        for (var i = 0; i < 2; i++)
        {
            while (at < data.Length && data[at] == 255)
            {
                sizes[i] += 255;
                at++;
            }
            if (at >= data.Length)
            {
                Fail("a truncated Vorbis CodecPrivate");
                return packets;
            }
            sizes[i] += data[at++];
        }
        if (at + sizes[0] + sizes[1] > data.Length)
        {
            Fail("a truncated Vorbis CodecPrivate");
            return packets;
        }
        packets.Add(data[at..(at + sizes[0])]);
        packets.Add(data[(at + sizes[0])..(at + sizes[0] + sizes[1])]);
        packets.Add(data[(at + sizes[0] + sizes[1])..]);
        return packets;
    }

    /// <summary>Decodes the block read last (held until its block group's DiscardPadding, if any, has been seen).</summary>
    private void FlushBlock()
    {
        if (_pendingBlock is not { } block || !Healthy)
        {
            return;
        }
        _pendingBlock = null;
        var discardNs = _pendingDiscardNs;
        _pendingDiscardNs = 0;
        var span = block.AsSpan();
        var trackLength = VintLength(span.Length > 0 ? span[0] : (byte)0);
        if (trackLength == 0 || span.Length < trackLength + 3)
        {
            Fail("an invalid Matroska block");
            return;
        }
        var track = (long)Vint(span[..trackLength], out _);
        if (track != _chosen!.Number)
        {
            return;
        }
        var flags = span[trackLength + 2];
        ReadOnlySpan<byte> frames = span[(trackLength + 3)..];
        var lacing = (flags >> 1) & 3;
        if (lacing == 0)
        {
            Packet(frames, discardNs);
            return;
        }
        if (frames.IsEmpty)
        {
            Fail("a laced Matroska block without its frame count");
            return;
        }
        var count = frames[0] + 1;
        frames = frames[1..];
        var sizes = new int[count];
        if (!LaceSizes(lacing, ref frames, sizes))
        {
            Fail("a Matroska block whose lacing does not add up");
            return;
        }
        for (var i = 0; i < count && Healthy; i++)
        {
            Packet(frames[..sizes[i]], i == count - 1 ? discardNs : 0);
            frames = frames[sizes[i]..];
        }
    }

    private static bool LaceSizes(int lacing, ref ReadOnlySpan<byte> data, int[] sizes)
    {
        var count = sizes.Length;
        long total = 0;
        switch (lacing)
        {
            case 1: // Xiph
                for (var i = 0; i < count - 1; i++)
                {
                    var size = 0;
                    while (!data.IsEmpty && data[0] == 255)
                    {
                        size += 255;
                        data = data[1..];
                    }
                    if (data.IsEmpty)
                    {
                        return false;
                    }
                    size += data[0];
                    data = data[1..];
                    sizes[i] = size;
                    total += size;
                }
                break;
            case 3: // EBML: the first size, then signed differences
                long previous = 0;
                for (var i = 0; i < count - 1; i++)
                {
                    var length = VintLength(data.IsEmpty ? (byte)0 : data[0]);
                    if (length == 0 || data.Length < length)
                    {
                        return false;
                    }
                    var raw = (long)Vint(data[..length], out _);
                    previous = i == 0 ? raw : previous + raw - ((1L << (7 * length - 1)) - 1);
                    if (previous < 0)
                    {
                        return false;
                    }
                    sizes[i] = (int)previous;
                    total += previous;
                    data = data[length..];
                }
                break;
            default: // fixed
                if (data.Length % count != 0)
                {
                    return false;
                }
                Array.Fill(sizes, data.Length / count);
                return true;
        }
        if (total > data.Length)
        {
            return false;
        }
        sizes[count - 1] = (int)(data.Length - total);
        return true;
    }

    private void Packet(ReadOnlySpan<byte> packet, long discardNs)
    {
        if (_codec is OggOpus opus)
        {
            opus.OnPacket(packet, (int)Math.Clamp(discardNs * 48_000 / 1_000_000_000, 0, int.MaxValue));
        }
        else
        {
            _codec!.OnPacket(packet, false, null, false);
        }
    }

    private void Fail(string problem) => Corrupt(problem);

    /// <summary>Bytes of an EBML variable-length integer, from its first byte (0 when invalid).</summary>
    private static int VintLength(byte first) => first == 0 ? 0 : System.Numerics.BitOperations.LeadingZeroCount((uint)first) - 23;

    private static ulong Vint(ReadOnlySpan<byte> bytes, out bool unknown)
    {
        var value = (ulong)(bytes[0] & (0xFF >> bytes.Length));
        var allOnes = value == (ulong)(0xFF >> bytes.Length);
        for (var i = 1; i < bytes.Length; i++)
        {
            value = (value << 8) | bytes[i];
            allOnes &= bytes[i] == 0xFF;
        }
        unknown = allOnes;
        return value;
    }

    private static ulong UInt(ReadOnlySpan<byte> data)
    {
        ulong value = 0;
        foreach (var b in data[..Math.Min(8, data.Length)])
        {
            value = (value << 8) | b;
        }
        return value;
    }

    private sealed class Track
    {
        public long Number { get; set; }

        public int Type { get; set; }

        public string? Codec { get; set; }

        public byte[]? Private { get; set; }
    }
}
