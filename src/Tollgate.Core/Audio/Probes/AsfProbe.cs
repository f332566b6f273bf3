using System.Buffers.Binary;

namespace Tollgate.Audio.Probes;

/// <summary>ASF (WMA): the File Properties object's play duration (100 ns units) minus its preroll (ms); the audio stream's WAVEFORMATEX.</summary>
internal static class AsfProbe
{
    public static readonly byte[] HeaderGuid = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C];
    private static readonly byte[] FileProperties = [0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11, 0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65];
    private static readonly byte[] StreamProperties = [0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11, 0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65];
    private static readonly byte[] AudioMedia = [0x40, 0x9E, 0x69, 0xF8, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B];

    public static ProbeResult Probe(ProbeSource source)
    {
        Span<byte> header = stackalloc byte[30];
        if (!source.TryRead(0, header))
        {
            throw new ProbeException();
        }
        var headerSize = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        var objects = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        if (headerSize < 30 || headerSize > source.Length || objects > 10_000)
        {
            throw new ProbeException();
        }
        long position = 30;
        long? durationMs = null;
        int rate = 0, channels = 0;
        var codec = "wma";
        Span<byte> obj = stackalloc byte[24];
        Span<byte> body = stackalloc byte[96];
        for (var i = 0; i < objects && position + 24 <= headerSize; i++)
        {
            if (!source.TryRead(position, obj))
            {
                throw new ProbeException();
            }
            var size = BinaryPrimitives.ReadInt64LittleEndian(obj[16..]);
            if (size < 24 || position + size > headerSize)
            {
                throw new ProbeException();
            }
            var guid = obj[..16];
            if (guid.SequenceEqual(FileProperties) && size >= 104 && source.TryRead(position, body))
            {
                var play = BinaryPrimitives.ReadUInt64LittleEndian(body[64..]);
                var preroll = BinaryPrimitives.ReadUInt64LittleEndian(body[80..]);
                durationMs = (long)Math.Max(0, (decimal)play / 10_000 - preroll);
            }
            else if (guid.SequenceEqual(StreamProperties) && size >= 78 + 8 && source.TryRead(position, body[..86])
                && body.Slice(24, 16).SequenceEqual(AudioMedia) && rate == 0)
            {
                var tag = BinaryPrimitives.ReadUInt16LittleEndian(body[78..]);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(body[80..]);
                rate = BinaryPrimitives.ReadUInt32LittleEndian(body[82..]) is > 0 and <= int.MaxValue and var r ? (int)r : throw new ProbeException();
                codec = tag switch { 0x160 => "wmav1", 0x161 => "wmav2", 0x162 => "wmapro", 0x163 => "wmalossless", 0x55 => "mp3", _ => $"asf_0x{tag:x4}" };
            }
            position += size;
        }
        if (durationMs is null)
        {
            throw new ProbeException();
        }
        return ProbeResult.Ok(new AudioInfo(AudioContainer.Asf, codec, durationMs.Value, rate, channels));
    }
}
