namespace Tollgate.Backends.Reference.Codecs;

/// <summary>
/// Input bytes a decoder has been given but not yet used, first in first out, never more than
/// <see cref="Limit"/>: a decoder appends what fits (<see cref="Append"/>), consumes what it decoded, and repeats.
/// </summary>
internal sealed class ByteQueue(int limit)
{
    private byte[] _buffer = new byte[Math.Min(limit, 4096)];
    private int _start;

    public int Limit => limit;

    public int Count { get; private set; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(_start, Count);

    /// <summary>Appends as much of <paramref name="bytes"/> as fits under the limit; returns how many bytes it took.</summary>
    public int Append(ReadOnlySpan<byte> bytes)
    {
        var take = Math.Min(bytes.Length, limit - Count);
        if (take <= 0)
        {
            return 0;
        }
        if (_start + Count + take > _buffer.Length)
        {
            if (Count + take <= _buffer.Length && _start > 0)
            {
                _buffer.AsSpan(_start, Count).CopyTo(_buffer);
            }
            else
            {
                var grown = new byte[Math.Min(limit, Math.Max(_buffer.Length * 2, Count + take))];
                _buffer.AsSpan(_start, Count).CopyTo(grown);
                _buffer = grown;
            }
            _start = 0;
        }
        bytes[..take].CopyTo(_buffer.AsSpan(_start + Count));
        Count += take;
        return take;
    }

    public void Consume(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, Count);
        _start += bytes;
        Count -= bytes;
        if (Count == 0)
        {
            _start = 0;
        }
    }

    public void Clear()
    {
        _start = 0;
        Count = 0;
    }
}
