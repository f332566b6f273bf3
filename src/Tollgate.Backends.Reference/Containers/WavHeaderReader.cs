using System.Buffers.Binary;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Containers;

/// <summary>
/// RIFF/WAVE and RF64 headers, read incrementally: the <c>fmt </c> chunk (PCM, IEEE float, A-law, µ-law,
/// WAVE_FORMAT_EXTENSIBLE), an RF64 <c>ds64</c> chunk, other chunks skipped, up to the start of <c>data</c>.
/// </summary>
internal sealed class WavHeaderReader : HeaderReader
{
    private enum Step { Riff, ChunkHeader, Fmt, Ds64 }

    private Step _step = Step.Riff;
    private bool _rf64;
    private long? _ds64DataBytes;
    private PcmFormat? _format;
    private int _pad;

    public WavHeaderReader() : base(12)
    {
    }

    protected override void OnField(ReadOnlySpan<byte> field)
    {
        switch (_step)
        {
            case Step.Riff:
                _rf64 = field[..4].SequenceEqual("RF64"u8);
                if (!(_rf64 || field[..4].SequenceEqual("RIFF"u8)) || !field[8..12].SequenceEqual("WAVE"u8))
                {
                    Fail("not a RIFF/WAVE header");
                    return;
                }
                NextChunk(0);
                break;
            case Step.ChunkHeader:
                OnChunk(field[..4], BinaryPrimitives.ReadUInt32LittleEndian(field[4..]));
                break;
            case Step.Fmt:
                ReadFmt(field);
                if (Status == HeaderStatus.NeedMore)
                {
                    NextChunk(_pad);
                }
                break;
            case Step.Ds64:
                // An unsigned 64-bit size: one of 2^63 or more (negative here) is no size a file has. Like the probe,
                // take it as "not said" and read the samples present, instead of a negative count of bytes to come
                // (fuzzing found it reaching span[..negative] in the batch decoder: a 500).
                var ds64Data = BinaryPrimitives.ReadInt64LittleEndian(field[8..]);
                _ds64DataBytes = ds64Data >= 0 ? ds64Data : null;
                NextChunk(_pad);
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
        _pad = (int)(size & 1);
        if (id.SequenceEqual("fmt "u8))
        {
            if (size < 16 || size > MaxFieldBytes)
            {
                Fail($"a fmt chunk of {size} bytes");
                return;
            }
            _step = Step.Fmt;
            Need((int)size);
        }
        else if (id.SequenceEqual("ds64"u8) && _rf64)
        {
            if (size < 28 || size > MaxFieldBytes)
            {
                Fail($"a ds64 chunk of {size} bytes");
                return;
            }
            _step = Step.Ds64;
            Need((int)size);
        }
        else if (id.SequenceEqual("data"u8))
        {
            if (_format is not { } format)
            {
                Fail("the data chunk comes before the fmt chunk");
                return;
            }
            long? data = size switch
            {
                uint.MaxValue when _rf64 => _ds64DataBytes,
                0 or uint.MaxValue => null,
                _ => size,
            };
            Ready(new PcmHeader(format, data));
        }
        else
        {
            NextChunk(size + (long)_pad);
        }
    }

    private void ReadFmt(ReadOnlySpan<byte> fmt)
    {
        int tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        if (tag == 0xFFFE && fmt.Length >= 40)
        {
            tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]);
        }
        if (channels is < 1 or > 64 || rate is < 1 or > 1_000_000 || blockAlign < channels || blockAlign % channels != 0)
        {
            Fail($"fmt: {channels} channels, {rate} Hz, block align {blockAlign}");
            return;
        }
        var bytes = blockAlign / channels;
        var name = (tag, bytes) switch
        {
            (1, 1) => "u8",
            (1, 2) => "s16le",
            (1, 3) => "s24le",
            (1, 4) => "s32le",
            (3, 4) => "f32le",
            (3, 8) => "f64le",
            (6, 1) => "alaw",
            (7, 1) => "mulaw",
            _ => null,
        };
        if (name is null)
        {
            NotPcm($"WAVE format 0x{tag:X4} with {bytes}-byte samples");
            return;
        }
        RawSampleFormat.TryParse(name, out var sample);
        _format = new PcmFormat(sample, (int)rate, channels);
    }
}
