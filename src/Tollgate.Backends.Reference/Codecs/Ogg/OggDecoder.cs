using System.Buffers.Binary;
using Tollgate.Audio;

namespace Tollgate.Backends.Reference.Codecs.Ogg;

/// <summary>
/// An Ogg stream fed in chunks: pages are checked (capture pattern, version, CRC-32, page sequence), packets are
/// reassembled across pages, and the first logical stream that is Vorbis, Opus or FLAC is decoded (other streams,
/// e.g. a Skeleton, are skipped; a chained stream's later links are not decoded). Each packet is handed to the
/// codec with its page's granule position when it is the last packet completed on the page, and the end-of-stream
/// flag, which is how Ogg tells the codecs to trim the last packet's padding. At most one page and one packet are held.
/// </summary>
internal sealed class OggDecoder : CompressedDecoder, IPacketHost, IDisposable
{
    private const int HeaderBytes = 27;
    private const int MaxPageBytes = HeaderBytes + 255 + 255 * 255;

    private readonly ByteQueue _queue = new(MaxPageBytes);
    private OggCodec? _codec;
    private uint _serial;
    private uint _nextSequence;
    private byte[] _packet = new byte[4096];
    private int _packetLength;
    private long _packetTotal;
    private bool _pagesSeen;
    private bool _streamEnded;

    public override AudioContainer Container => AudioContainer.Ogg;

    public void Dispose() => _codec?.Dispose();

    void IPacketHost.StartAudio(int sampleRate) => Start(sampleRate);

    void IPacketHost.EmitAudio(ReadOnlySpan<float> mono) => Emit(mono);

    void IPacketHost.Fail(string problem) => Corrupt(problem);

    protected override void FeedCore(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && Healthy)
        {
            var taken = _queue.Append(bytes);
            bytes = bytes[taken..];
            while (Healthy && NextPage())
            {
            }
        }
    }

    protected override void FinishCore()
    {
        while (Healthy && NextPage())
        {
        }
        if (!Healthy)
        {
            return;
        }
        if (_codec is null)
        {
            Unsupported(_pagesSeen ? "no Vorbis, Opus or FLAC stream in the Ogg file" : "no Ogg page");
            return;
        }
        // A last page cut short is a stream cut short: what came before it stands.
        _codec.Finish();
    }

    /// <summary>Reads one whole page from the queue, if there is one.</summary>
    private bool NextPage()
    {
        var span = _queue.Span;
        if (span.Length < HeaderBytes)
        {
            return false;
        }
        if (!span.StartsWith("OggS"u8) || span[4] != 0)
        {
            if (_pagesSeen)
            {
                Corrupt("bytes that are no Ogg page");
            }
            else
            {
                Unsupported("no Ogg capture pattern");
            }
            return false;
        }
        var segments = span[26];
        if (span.Length < HeaderBytes + segments)
        {
            return false;
        }
        var body = 0;
        foreach (var lacing in span.Slice(HeaderBytes, segments))
        {
            body += lacing;
        }
        var length = HeaderBytes + segments + body;
        if (span.Length < length)
        {
            return false;
        }
        var page = span[..length];
        if (OggCrc.Compute(page) != BinaryPrimitives.ReadUInt32LittleEndian(page[22..]))
        {
            Corrupt("an Ogg page fails its CRC");
            return false;
        }
        _pagesSeen = true;
        OnPage(page, segments);
        _queue.Consume(length);
        return true;
    }

    private void OnPage(ReadOnlySpan<byte> page, int segments)
    {
        var flags = page[5];
        var granule = BinaryPrimitives.ReadInt64LittleEndian(page[6..]);
        var serial = BinaryPrimitives.ReadUInt32LittleEndian(page[14..]);
        var sequence = BinaryPrimitives.ReadUInt32LittleEndian(page[18..]);
        var lacing = page.Slice(HeaderBytes, segments);
        var body = page[(HeaderBytes + segments)..];
        var beginning = (flags & 0x02) != 0;
        if (_codec is null)
        {
            if (!beginning)
            {
                Unsupported("no Vorbis, Opus or FLAC stream in the Ogg file");
                return;
            }
            // A beginning-of-stream page holds exactly its stream's first packet, which names the codec.
            _codec = OggCodec.Identify(body, this);
            if (_codec is null)
            {
                return;
            }
            _serial = serial;
            _nextSequence = sequence;
        }
        if (serial != _serial || _streamEnded)
        {
            return;
        }
        if (sequence != _nextSequence)
        {
            Corrupt($"Ogg page {sequence} where page {_nextSequence} was due (pages are missing)");
            return;
        }
        _nextSequence = sequence + 1;
        if ((flags & 0x01) == 0 && _packetTotal > 0)
        {
            Corrupt("an Ogg packet left unfinished by the page before");
            return;
        }
        if ((flags & 0x01) != 0 && _packetTotal == 0 && !beginning)
        {
            Corrupt("an Ogg page continues a packet that never began");
            return;
        }
        // The page's granule position belongs to the last packet that ends on it.
        var lastEnd = -1;
        for (var i = 0; i < segments; i++)
        {
            if (lacing[i] < 255)
            {
                lastEnd = i;
            }
        }
        var end = (flags & 0x04) != 0;
        var offset = 0;
        for (var i = 0; i < segments && Healthy; i++)
        {
            Append(body.Slice(offset, lacing[i]));
            offset += lacing[i];
            if (lacing[i] < 255)
            {
                var packet = _packet.AsSpan(0, _packetLength);
                var truncated = _packetTotal > _packetLength;
                _packetLength = 0;
                _packetTotal = 0;
                _codec!.OnPacket(packet, truncated, i == lastEnd && granule >= 0 ? granule : null, end && i == lastEnd);
            }
        }
        if (end)
        {
            _streamEnded = true;
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        _packetTotal += bytes.Length;
        var room = Math.Min(bytes.Length, _codec!.MaxPacketBytes - _packetLength);
        if (room <= 0)
        {
            return;
        }
        if (_packetLength + room > _packet.Length)
        {
            Array.Resize(ref _packet, Math.Min(_codec.MaxPacketBytes, Math.Max(_packet.Length * 2, _packetLength + room)));
        }
        bytes[..room].CopyTo(_packet.AsSpan(_packetLength));
        _packetLength += room;
    }
}

/// <summary>
/// Where a codec's packets come from and its audio goes: the Ogg or Matroska demuxer that found the stream.
/// </summary>
internal interface IPacketHost
{
    bool Healthy { get; }

    void StartAudio(int sampleRate);

    void EmitAudio(ReadOnlySpan<float> mono);

    void Fail(string problem);
}

/// <summary>
/// One codec's packets in (Vorbis, Opus, FLAC, in the order their Ogg mapping sends them), decoded audio out through
/// the <see cref="IPacketHost"/>. Matroska's demuxer feeds the same classes the same packets.
/// </summary>
internal abstract class OggCodec(IPacketHost owner) : IDisposable
{
    protected IPacketHost Owner => owner;

    /// <summary>Longest packet held; longer ones are cut (fine for comment headers, damage for audio).</summary>
    public virtual int MaxPacketBytes => 1024 * 1024;

    public static OggCodec? Identify(ReadOnlySpan<byte> first, IPacketHost owner)
    {
        if (first.Length >= 7 && first[0] == 1 && first[1..7].SequenceEqual("vorbis"u8))
        {
            return new OggVorbis(owner);
        }
        if (first.StartsWith("OpusHead"u8))
        {
            return new OggOpus(owner);
        }
        if (first.Length >= 5 && first[0] == 0x7F && first[1..5].SequenceEqual("FLAC"u8))
        {
            return new OggFlac(owner);
        }
        return null;
    }

    /// <param name="packet">The packet (its first <see cref="MaxPacketBytes"/> when <paramref name="truncated"/>).</param>
    /// <param name="granule">The granule position after this packet, when its page states one for it.</param>
    /// <param name="endOfStream">This is the stream's last packet.</param>
    public abstract void OnPacket(ReadOnlySpan<byte> packet, bool truncated, long? granule, bool endOfStream);

    /// <summary>The data ended: decode what is still held.</summary>
    public abstract void Finish();

    public virtual void Dispose()
    {
    }
}

/// <summary>Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, computed with the CRC field as zero.</summary>
internal static class OggCrc
{
    private static readonly uint[] Table = Build();

    public static uint Compute(ReadOnlySpan<byte> page)
    {
        uint crc = 0;
        for (var i = 0; i < page.Length; i++)
        {
            var b = i is >= 22 and < 26 ? (byte)0 : page[i];
            crc = (crc << 8) ^ Table[(crc >> 24) ^ b];
        }
        return crc;
    }

    private static uint[] Build()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var r = i << 24;
            for (var j = 0; j < 8; j++)
            {
                r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
            }
            table[i] = r;
        }
        return table;
    }
}
