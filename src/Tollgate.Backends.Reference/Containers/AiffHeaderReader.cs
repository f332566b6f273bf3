using System.Buffers.Binary;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Containers;

/// <summary>
/// AIFF and AIFF-C headers, read incrementally: <c>COMM</c> (integer, <c>sowt</c>, float, µ-law, A-law samples),
/// other chunks skipped, up to the samples of <c>SSND</c> (after its offset). COMM must precede SSND, as every
/// streaming writer does.
/// </summary>
internal sealed class AiffHeaderReader : HeaderReader
{
    private enum Step { Form, ChunkHeader, Comm, Ssnd }

    private Step _step = Step.Form;
    private bool _aifc;
    private PcmFormat? _format;
    private uint _chunkSize;

    public AiffHeaderReader() : base(12)
    {
    }

    protected override void OnField(ReadOnlySpan<byte> field)
    {
        switch (_step)
        {
            case Step.Form:
                _aifc = field[8..12].SequenceEqual("AIFC"u8);
                if (!field[..4].SequenceEqual("FORM"u8) || !(_aifc || field[8..12].SequenceEqual("AIFF"u8)))
                {
                    Fail("not a FORM/AIFF header");
                    return;
                }
                NextChunk(0);
                break;
            case Step.ChunkHeader:
                OnChunk(field[..4], BinaryPrimitives.ReadUInt32BigEndian(field[4..]));
                break;
            case Step.Comm:
                ReadComm(field);
                if (Status == HeaderStatus.NeedMore)
                {
                    NextChunk(_chunkSize & 1);
                }
                break;
            case Step.Ssnd:
                ReadSsnd(field);
                break;
        }
    }

    private void NextChunk(long skip)
    {
        _step = Step.ChunkHeader;
        Need(8, skip);
    }

    private void OnChunk(ReadOnlySpan<byte> id, uint size)
    {
        _chunkSize = size;
        if (id.SequenceEqual("COMM"u8))
        {
            if (size < 18 || size > MaxFieldBytes)
            {
                Fail($"a COMM chunk of {size} bytes");
                return;
            }
            _step = Step.Comm;
            Need((int)size);
        }
        else if (id.SequenceEqual("SSND"u8))
        {
            if (_format is null)
            {
                Fail("the SSND chunk comes before the COMM chunk");
                return;
            }
            _step = Step.Ssnd;
            Need(8);
        }
        else
        {
            NextChunk(size + (long)(size & 1));
        }
    }

    private void ReadComm(ReadOnlySpan<byte> comm)
    {
        int channels = BinaryPrimitives.ReadInt16BigEndian(comm);
        int bits = BinaryPrimitives.ReadInt16BigEndian(comm[6..]);
        var rate = Math.Round(Extended80(comm.Slice(8, 10)));
        if (channels is < 1 or > 64 || bits is < 1 or > 64 || !(rate >= 1 && rate <= 1_000_000))
        {
            Fail($"COMM: {channels} channels, {bits} bits, {rate} Hz");
            return;
        }
        var compression = _aifc && comm.Length >= 22 ? comm.Slice(18, 4) : "NONE"u8;
        var bytes = (bits + 7) / 8;
        var name = System.Text.Encoding.ASCII.GetString(compression) switch
        {
            "NONE" or "twos" => bytes switch { 1 => "s8", 2 => "s16be", 3 => "s24be", 4 => "s32be", _ => null },
            "sowt" => bytes switch { 1 => "s8", 2 => "s16le", 3 => "s24le", 4 => "s32le", _ => null },
            "raw " => bytes == 1 ? "u8" : null,
            "fl32" or "FL32" => "f32be",
            "fl64" or "FL64" => "f64be",
            "ulaw" or "ULAW" => "mulaw",
            "alaw" or "ALAW" => "alaw",
            _ => null,
        };
        if (name is null)
        {
            NotPcm("AIFF-C compression " + System.Text.Encoding.ASCII.GetString(compression));
            return;
        }
        RawSampleFormat.TryParse(name, out var sample);
        _format = new PcmFormat(sample, (int)rate, channels);
    }

    private void ReadSsnd(ReadOnlySpan<byte> field)
    {
        var offset = BinaryPrimitives.ReadUInt32BigEndian(field);
        long? data = _chunkSize is 0 or uint.MaxValue || _chunkSize < 8L + offset ? null : _chunkSize - 8L - offset;
        Ready(new PcmHeader(_format!.Value, data), offset);
    }

    /// <summary>An IEEE 754 80-bit extended float (big-endian), as AIFF stores its sample rate.</summary>
    internal static double Extended80(ReadOnlySpan<byte> b)
    {
        var exponent = ((b[0] & 0x7F) << 8) | b[1];
        var mantissa = BinaryPrimitives.ReadUInt64BigEndian(b[2..]);
        if (exponent == 0 && mantissa == 0)
        {
            return 0;
        }
        var value = mantissa * Math.Pow(2, exponent - 16383 - 63);
        return (b[0] & 0x80) != 0 ? -value : value;
    }
}
