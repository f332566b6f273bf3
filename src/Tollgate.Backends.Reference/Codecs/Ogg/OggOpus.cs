using System.Buffers.Binary;
using Concentus.Structs;

namespace Tollgate.Backends.Reference.Codecs.Ogg;

/// <summary>
/// Opus in Ogg (RFC 7845) through Concentus's managed decoder, always at 48 kHz: channel mapping family 0 (mono or
/// stereo) with a plain decoder, families 1 and 255 with the multistream decoder. The header's output gain is applied,
/// the pre-skip (the encoder's priming) is dropped, and the last packet is cut at the final granule position, so
/// the samples line up with the encoded audio.
/// </summary>
internal sealed class OggOpus(IPacketHost owner) : OggCodec(owner)
{
    private const int Rate = 48_000;

    /// <summary>The longest Opus packet: 120 ms.</summary>
    private const int MaxFrameSamples = 5_760;

    private int _headers;
    private int _channels;
    private int _preSkip;
    private float _gain = 1f;
    private OpusDecoder? _decoder;
    private OpusMSDecoder? _multistream;
    private float[] _interleaved = [];
    private readonly float[] _mono = new float[MaxFrameSamples];
    private long _position;

    public override void OnPacket(ReadOnlySpan<byte> packet, bool truncated, long? granule, bool endOfStream)
    {
        switch (_headers)
        {
            case 0:
                Head(packet);
                _headers++;
                return;
            case 1:
                if (!packet.StartsWith("OpusTags"u8))
                {
                    Owner.Fail("the OpusTags header is missing");
                }
                _headers++;
                Owner.StartAudio(Rate);
                return;
        }
        if (truncated)
        {
            Owner.Fail("an Opus packet larger than " + MaxPacketBytes / 1024 + " KB");
            return;
        }
        Decode(packet, endOfStream ? granule : null, 0);
    }

    /// <summary>An audio packet whose last <paramref name="discard"/> samples are padding (Matroska's DiscardPadding).</summary>
    public void OnPacket(ReadOnlySpan<byte> packet, int discard)
    {
        if (_headers < 2)
        {
            OnPacket(packet, false, null, false);
            return;
        }
        Decode(packet, null, discard);
    }

    public override void Finish()
    {
        if (_headers is > 0 and < 2)
        {
            Owner.Fail("the Opus headers are incomplete");
        }
    }

    public override void Dispose() => _multistream?.Dispose();

    private void Head(ReadOnlySpan<byte> head)
    {
        if (head.Length < 19 || head[8] >= 16)
        {
            Owner.Fail("an invalid OpusHead");
            return;
        }
        _channels = head[9];
        _preSkip = BinaryPrimitives.ReadUInt16LittleEndian(head[10..]);
        _gain = MathF.Pow(10f, BinaryPrimitives.ReadInt16LittleEndian(head[16..]) / (20f * 256f));
        var family = head[18];
        if (_channels == 0)
        {
            Owner.Fail("an OpusHead with no channels");
            return;
        }
#pragma warning disable CS0618 // The factory would load a native libopus when one is installed; the reference stays managed and the same on every machine.
        if (family == 0)
        {
            if (_channels > 2)
            {
                Owner.Fail("an OpusHead of mapping family 0 with more than two channels");
                return;
            }
            _decoder = new OpusDecoder(Rate, _channels);
        }
        else
        {
            if (head.Length < 21 + _channels)
            {
                Owner.Fail("an OpusHead without its channel mapping table");
                return;
            }
            int streams = head[19], coupled = head[20];
            if (streams == 0 || coupled > streams || streams + coupled > 255)
            {
                Owner.Fail("an OpusHead with an impossible stream count");
                return;
            }
            _multistream = new OpusMSDecoder(Rate, _channels, streams, coupled, head.Slice(21, _channels).ToArray());
        }
#pragma warning restore CS0618
        _interleaved = new float[MaxFrameSamples * _channels];
    }

    private void Decode(ReadOnlySpan<byte> packet, long? finalGranule, int discard)
    {
        var frames = _decoder is not null
            ? _decoder.Decode(packet, _interleaved, MaxFrameSamples)
            : _multistream!.DecodeMultistream(packet, _interleaved, MaxFrameSamples, false);
        if (frames < 0)
        {
            Owner.Fail("an Opus packet could not be decoded");
            return;
        }
        var scale = _gain / _channels;
        for (var i = 0; i < frames; i++)
        {
            var sum = 0f;
            for (var c = 0; c < _channels; c++)
            {
                sum += _interleaved[i * _channels + c];
            }
            _mono[i] = Math.Clamp(sum * scale, -1f, 1f);
        }
        var start = _position;
        _position += frames;
        var from = (int)Math.Clamp(_preSkip - start, 0, frames);
        var to = finalGranule is { } end ? (int)Math.Clamp(end - start, from, frames) : frames;
        to = Math.Max(from, to - Math.Max(0, discard));
        Owner.EmitAudio(_mono.AsSpan(from, to - from));
    }
}
