namespace Tollgate.Backends.Reference.Containers;

/// <summary>
/// Reads a container header incrementally from bytes split anywhere (WebSocket frames, file chunks): the
/// container's state machine asks for "the next N bytes" or "skip N bytes", and only the requested header
/// fields are ever held in memory. <see cref="Feed"/> returns how many bytes belonged to the header; once
/// <see cref="Status"/> is <see cref="HeaderStatus.Ready"/>, every following byte is sample data.
/// </summary>
internal abstract class HeaderReader
{
    /// <summary>Largest header region (including skipped chunks) accepted before the samples start.</summary>
    public const long MaxHeaderBytes = 32L * 1024 * 1024;

    /// <summary>Largest single header field read into memory.</summary>
    protected const int MaxFieldBytes = 64 * 1024;

    private byte[] _buffer = new byte[64];
    private int _count;
    private int _need;
    private long _skip;
    private PcmHeader? _pending;

    protected HeaderReader(int firstNeed) => _need = firstNeed;

    public HeaderStatus Status { get; private set; }

    /// <summary>The parsed header once <see cref="Status"/> is <see cref="HeaderStatus.Ready"/>.</summary>
    public PcmHeader? Header { get; private set; }

    /// <summary>Header bytes consumed so far.</summary>
    public long Consumed { get; private set; }

    /// <summary>Why the header is invalid (for logs and tests).</summary>
    public string? Problem { get; private set; }

    /// <summary>The reader for a container, or null when it has none.</summary>
    public static HeaderReader? For(SniffedContainer container) => container switch
    {
        SniffedContainer.Wav => new WavHeaderReader(),
        SniffedContainer.Aiff => new AiffHeaderReader(),
        SniffedContainer.Au => new AuHeaderReader(),
        _ => null,
    };

    /// <summary>Consumes header bytes from <paramref name="input"/>; returns how many were header.</summary>
    public int Feed(ReadOnlySpan<byte> input)
    {
        var used = 0;
        while (Status == HeaderStatus.NeedMore && used < input.Length)
        {
            if (_skip > 0)
            {
                var skipped = (int)Math.Min(_skip, input.Length - used);
                _skip -= skipped;
                used += skipped;
            }
            else if (_pending is null)
            {
                var take = Math.Min(_need - _count, input.Length - used);
                input.Slice(used, take).CopyTo(_buffer.AsSpan(_count));
                _count += take;
                used += take;
                if (_count == _need)
                {
                    var field = _buffer.AsSpan(0, _count);
                    _count = 0;
                    OnField(field);
                }
            }
            if (_skip == 0 && _pending is not null)
            {
                Header = _pending;
                Status = HeaderStatus.Ready;
            }
            if (Status == HeaderStatus.NeedMore && Consumed + used > MaxHeaderBytes)
            {
                Fail("the header region is larger than " + MaxHeaderBytes / (1024 * 1024) + " MB");
            }
        }
        Consumed += used;
        return used;
    }

    /// <summary>Called with exactly the bytes last asked for.</summary>
    protected abstract void OnField(ReadOnlySpan<byte> field);

    /// <summary>Asks for the next <paramref name="bytes"/> bytes, after skipping <paramref name="skipFirst"/>.</summary>
    protected void Need(int bytes, long skipFirst = 0)
    {
        if (bytes <= 0 || bytes > MaxFieldBytes)
        {
            Fail($"a header field of {bytes} bytes");
            return;
        }
        if (_buffer.Length < bytes)
        {
            _buffer = new byte[Math.Max(bytes, _buffer.Length * 2)];
        }
        _need = bytes;
        _skip = skipFirst;
    }

    /// <summary>The header is complete once <paramref name="skipFirst"/> more bytes have passed.</summary>
    protected void Ready(PcmHeader header, long skipFirst = 0)
    {
        _pending = header;
        _skip = skipFirst;
        if (skipFirst == 0)
        {
            Header = header;
            Status = HeaderStatus.Ready;
        }
    }

    protected void Fail(string problem)
    {
        Problem = problem;
        Status = HeaderStatus.Invalid;
    }

    protected void NotPcm(string codec)
    {
        Problem = "compressed samples: " + codec;
        Status = HeaderStatus.NotPcm;
    }
}
