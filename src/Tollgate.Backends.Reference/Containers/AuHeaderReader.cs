using System.Buffers.Binary;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Containers;

/// <summary>Sun/NeXT <c>.snd</c> (AU) headers: 24 big-endian bytes, then the annotation up to the data offset.</summary>
internal sealed class AuHeaderReader : HeaderReader
{
    public AuHeaderReader() : base(24)
    {
    }

    protected override void OnField(ReadOnlySpan<byte> h)
    {
        if (!h[..4].SequenceEqual(".snd"u8))
        {
            Fail("not a .snd header");
            return;
        }
        var offset = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        var size = BinaryPrimitives.ReadUInt32BigEndian(h[8..]);
        var encoding = BinaryPrimitives.ReadUInt32BigEndian(h[12..]);
        var rate = BinaryPrimitives.ReadUInt32BigEndian(h[16..]);
        var channels = BinaryPrimitives.ReadUInt32BigEndian(h[20..]);
        if (offset < 24 || rate is < 1 or > 1_000_000 || channels is < 1 or > 64)
        {
            Fail($".snd: offset {offset}, {rate} Hz, {channels} channels");
            return;
        }
        var name = encoding switch
        {
            1 => "mulaw",
            2 => "s8",
            3 => "s16be",
            4 => "s24be",
            5 => "s32be",
            6 => "f32be",
            7 => "f64be",
            27 => "alaw",
            _ => null,
        };
        if (name is null)
        {
            NotPcm($".snd encoding {encoding}");
            return;
        }
        RawSampleFormat.TryParse(name, out var sample);
        Ready(new PcmHeader(new PcmFormat(sample, (int)rate, (int)channels), size == uint.MaxValue ? null : size), offset - 24L);
    }
}
