using System.Buffers.Binary;
using NVorbis;
using NVorbis.Contracts;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Codecs.Ogg;

/// <summary>
/// Vorbis in Ogg through NVorbis's <see cref="StreamDecoder"/>, which pulls packets from an <see cref="NVorbis.Contracts.IPacketProvider"/>.
/// Pulling cannot wait for the network, so the packets are queued as they arrive and the decoder is asked for at most
/// half a short block of samples per call while at least <see cref="Lookahead"/> packets wait: one call then decodes
/// at most two packets (a packet yields at least half a short block once the first has primed the overlap), so the
/// decoder never finds the queue empty before the stream really ends. The comment header is replaced by an empty one
/// (its tags, cover art included, are never held). Priming and the last packet's padding are trimmed by NVorbis from
/// the granule positions, so the samples line up with the encoded audio.
/// </summary>
internal sealed class OggVorbis(IPacketHost owner) : OggCodec(owner)
{
    private const int Lookahead = 3;

    /// <summary>A valid, empty comment header: packet type 3, "vorbis", no vendor string, no comments, the framing bit.</summary>
    private static readonly byte[] EmptyComments = [3, (byte)'v', (byte)'o', (byte)'r', (byte)'b', (byte)'i', (byte)'s', 0, 0, 0, 0, 0, 0, 0, 0, 1];

    private readonly PacketQueue _packets = new();
    private StreamDecoder? _decoder;
    private int _headers;
    private int _channels;
    private int _rate;
    private int _shortBlock;
    private float[] _interleaved = [];
    private float[] _mono = [];

    public override void OnPacket(ReadOnlySpan<byte> packet, bool truncated, long? granule, bool endOfStream)
    {
        if (_headers < 3)
        {
            Header(packet, truncated);
            return;
        }
        if (truncated)
        {
            Owner.Fail("a Vorbis audio packet larger than " + MaxPacketBytes / 1024 + " KB");
            return;
        }
        _packets.Enqueue(packet, granule, endOfStream);
        Drain(final: false);
    }

    public override void Finish()
    {
        if (_decoder is null)
        {
            if (_headers > 0)
            {
                Owner.Fail("the Vorbis headers are incomplete");
            }
            return;
        }
        _packets.Finished = true;
        Drain(final: true);
    }

    public override void Dispose() => _decoder?.Dispose();

    private void Header(ReadOnlySpan<byte> packet, bool truncated)
    {
        switch (_headers)
        {
            case 0:
                if (packet.Length < 30 || packet[0] != 1 || !packet[1..7].SequenceEqual("vorbis"u8))
                {
                    Owner.Fail("an invalid Vorbis identification header");
                    return;
                }
                _channels = packet[11];
                _rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(packet[12..]);
                _shortBlock = 1 << (packet[28] & 0x0F);
                if (_channels == 0 || _rate is <= 0 or > 768_000 || _shortBlock < 64)
                {
                    Owner.Fail("an invalid Vorbis identification header");
                    return;
                }
                _packets.Enqueue(packet, null, false);
                break;
            case 1:
                if (packet.Length < 7 || packet[0] != 3 || !packet[1..7].SequenceEqual("vorbis"u8))
                {
                    Owner.Fail("the Vorbis comment header is missing");
                    return;
                }
                _packets.Enqueue(EmptyComments, null, false);
                break;
            default:
                if (truncated || packet.Length < 7 || packet[0] != 5 || !packet[1..7].SequenceEqual("vorbis"u8))
                {
                    Owner.Fail("an invalid Vorbis setup header");
                    return;
                }
                _packets.Enqueue(packet, null, false);
                _decoder = new StreamDecoder(_packets);
                if (_decoder.Channels != _channels || _decoder.SampleRate != _rate)
                {
                    Owner.Fail("the Vorbis headers disagree");
                    return;
                }
                var frames = _shortBlock / 2;
                _interleaved = new float[frames * _channels];
                _mono = new float[frames];
                Owner.StartAudio(_rate);
                break;
        }
        _headers++;
    }

    private void Drain(bool final)
    {
        while (Owner.Healthy && (final || _packets.Count >= Lookahead))
        {
            var read = _decoder!.Read(_interleaved, 0, _interleaved.Length);
            if (_packets.Starved)
            {
                Owner.Fail("a Vorbis packet could not be decoded");
                return;
            }
            if (read == 0)
            {
                if (!final)
                {
                    Owner.Fail("the Vorbis stream ended before its last packet");
                }
                return;
            }
            var frames = read / _channels;
            for (var i = 0; i < frames; i++)
            {
                var sum = 0f;
                for (var c = 0; c < _channels; c++)
                {
                    sum += _interleaved[i * _channels + c];
                }
                _mono[i] = SampleCodec.Clip(sum / _channels);
            }
            Owner.EmitAudio(_mono.AsSpan(0, frames));
        }
    }

    /// <summary>The packets received and not yet decoded, handed to NVorbis on request.</summary>
    private sealed class PacketQueue : NVorbis.Contracts.IPacketProvider
    {
        private readonly Queue<VorbisPacket> _queue = new();

        public int Count => _queue.Count;

        /// <summary>No more packets will come: an empty queue is the end of the stream.</summary>
        public bool Finished { get; set; }

        /// <summary>The decoder asked for a packet before the stream ended and none was there.</summary>
        public bool Starved { get; private set; }

        public bool CanSeek => false;

        public int StreamSerial => 0;

        public void Enqueue(ReadOnlySpan<byte> packet, long? granule, bool endOfStream) =>
            _queue.Enqueue(new VorbisPacket(packet.ToArray(), granule, endOfStream));

        public IPacket? GetNextPacket()
        {
            if (_queue.TryDequeue(out var packet))
            {
                return packet;
            }
            Starved |= !Finished;
            return null;
        }

        public IPacket? PeekNextPacket() => _queue.TryPeek(out var packet) ? packet : null;

        public long SeekTo(long granulePos, int preRoll, GetPacketGranuleCount getPacketGranuleCount) =>
            throw new NotSupportedException("A pushed stream cannot seek.");

        public long GetGranuleCount() => throw new NotSupportedException("A pushed stream has no known length.");
    }

    /// <summary>One packet's bytes, read by NVorbis's bit reader.</summary>
    private sealed class VorbisPacket : DataPacket
    {
        private readonly byte[] _data;
        private int _next;

        public VorbisPacket(byte[] data, long? granule, bool endOfStream)
        {
            _data = data;
            GranulePosition = granule;
            IsEndOfStream = endOfStream;
        }

        protected override int TotalBits => _data.Length * 8;

        protected override int ReadNextByte() => _next < _data.Length ? _data[_next++] : -1;

        public override void Reset()
        {
            _next = 0;
            base.Reset();
        }
    }
}
