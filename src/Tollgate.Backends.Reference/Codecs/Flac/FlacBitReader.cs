using System.Numerics;

namespace Tollgate.Backends.Reference.Codecs.Flac;

/// <summary>
/// Big-endian bit reads over one complete FLAC frame (FLAC packs bits most significant first). Reading past the end
/// of the frame throws <see cref="InvalidDataException"/>: a frame whose contents do not fit its bytes is damaged.
/// </summary>
internal ref struct FlacBitReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _next;
    private ulong _cache; // the next _bits bits, most significant first; the bits below them are zero
    private int _bits;

    /// <summary>Bytes fully consumed, once <see cref="AlignToByte"/> was called.</summary>
    public readonly int BytePosition => _next - _bits / 8;

    /// <summary>Reads <paramref name="count"/> (0 to 32) bits as an unsigned value.</summary>
    public uint ReadBits(int count)
    {
        if (count == 0)
        {
            return 0;
        }
        if (_bits < count)
        {
            Refill();
            if (_bits < count)
            {
                throw new InvalidDataException("A FLAC frame ends in the middle of a field.");
            }
        }
        var value = (uint)(_cache >> (64 - count));
        _cache <<= count;
        _bits -= count;
        return value;
    }

    /// <summary>Reads <paramref name="count"/> (0 to 33) bits as a two's complement signed value.</summary>
    public long ReadSigned(int count)
    {
        if (count == 0)
        {
            return 0;
        }
        long value = count > 32 ? (long)ReadBits(count - 32) << 32 | ReadBits(32) : ReadBits(count);
        var shift = 64 - count;
        return value << shift >> shift;
    }

    /// <summary>Counts zero bits up to and including the next one bit (a unary code).</summary>
    public uint ReadUnary()
    {
        uint zeros = 0;
        while (true)
        {
            if (_bits == 0)
            {
                Refill();
                if (_bits == 0)
                {
                    throw new InvalidDataException("A FLAC frame ends in the middle of a residual.");
                }
            }
            if (_cache == 0)
            {
                zeros += (uint)_bits;
                _bits = 0;
                continue;
            }
            var leading = BitOperations.LeadingZeroCount(_cache);
            zeros += (uint)leading;
            _cache = leading == 63 ? 0 : _cache << (leading + 1);
            _bits -= leading + 1;
            return zeros;
        }
    }

    public void AlignToByte()
    {
        var drop = _bits % 8;
        _cache <<= drop;
        _bits -= drop;
    }

    private void Refill()
    {
        while (_bits <= 56 && _next < _data.Length)
        {
            _cache |= (ulong)_data[_next++] << (56 - _bits);
            _bits += 8;
        }
    }
}
