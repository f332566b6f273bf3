using System.Buffers.Binary;
using Tollgate.Backends.Reference.Codecs.Flac;

namespace Tollgate.Backends.Reference.Codecs.Ogg;

/// <summary>
/// FLAC in Ogg: the first packet carries STREAMINFO, later header packets are metadata blocks (skipped), and every
/// audio packet is one FLAC frame, checked against its CRC-16 and decoded by <see cref="FlacFrameDecoder"/>; the MD5
/// is checked at the end when the stream was decoded whole.
/// </summary>
internal sealed class OggFlac(IPacketHost owner) : OggCodec(owner)
{
    private FlacStreamInfo? _info;
    private FlacFrameDecoder? _frames;

    public override int MaxPacketBytes => FlacStreamDecoder.MaxFrameBytes;

    public override void OnPacket(ReadOnlySpan<byte> packet, bool truncated, long? granule, bool endOfStream)
    {
        if (_info is null)
        {
            // 0x7F "FLAC", version 1.x, the header packet count, "fLaC", then the STREAMINFO block (header + 34 bytes).
            if (packet.Length < 13 + 4 + FlacStreamInfo.Length || packet[5] != 1 || !packet[9..13].SequenceEqual("fLaC"u8)
                || (packet[13] & 0x7F) != 0 || FlacStreamInfo.Parse(packet[17..]) is not { } info)
            {
                Owner.Fail("an invalid Ogg FLAC header");
                return;
            }
            _info = info;
            _frames = new FlacFrameDecoder(info);
            Owner.StartAudio(info.SampleRate);
            return;
        }
        if (!FlacFrameHeader.IsSync(packet))
        {
            return; // A metadata block (tags, pictures...): nothing to decode.
        }
        if (truncated || packet.Length < 4 || FlacFrameHeader.Crc16(packet[..^2]) != BinaryPrimitives.ReadUInt16BigEndian(packet[^2..]))
        {
            Owner.Fail("an Ogg FLAC frame fails its CRC-16");
            return;
        }
        Owner.EmitAudio(_frames!.Decode(packet));
    }

    public override void Finish()
    {
        if (_frames is not null && _frames.Samples == _info!.TotalSamples && !_frames.Md5Matches())
        {
            Owner.Fail("the decoded samples do not match STREAMINFO's MD5");
        }
    }

    public override void Dispose() => _frames?.Dispose();
}
