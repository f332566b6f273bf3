using System.Buffers;
using Tollgate.Server.Admission;

namespace Tollgate.Server.Models;

/// <summary>
/// The request body, recorded while its beginning is read (<see cref="UploadHead"/>), then given again from its first
/// byte: the recorded bytes, then the rest as it arrives. Whoever reads the replay gets the body exactly as the client
/// sent it; the bytes pass through once, and only the recorded beginning is held in memory.
/// </summary>
internal sealed class UploadReplay : Stream
{
    private readonly Stream _inner;
    private byte[] _recorded = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _count;
    private bool _replaying;
    private int _replayed;
    private long _position;
    private BoundaryScan? _scan;
    private UploadTail? _tail;
    private long? _length;
    private CancellationTokenSource? _deadline;
    private bool _ended;

    public UploadReplay(Stream inner) => _inner = inner;

    /// <summary>
    /// Why the body was refused as it passed (the parts after the file broke a rule of the spooled path, the file
    /// outgrew its limit): its last bytes were never handed out, so whoever read it saw a body that broke off.
    /// </summary>
    public Rejection? Refusal { get; private set; }

    /// <summary>
    /// Cancelled when the upload's deadline passes before its last byte arrived (<see cref="UploadOptions"/>); never once
    /// it has all arrived. <see cref="CancellationToken.None"/> without a deadline.
    /// </summary>
    public CancellationToken Deadline => _deadline?.Token ?? CancellationToken.None;

    /// <summary>The deadline in words, for the 408's detail.</summary>
    public string? DeadlineText { get; private set; }

    /// <summary>Whether the deadline passed before the upload had all arrived.</summary>
    public bool DeadlinePassed => _deadline is { IsCancellationRequested: true } && !_ended;

    /// <summary>How many bytes were recorded (the beginning read so far).</summary>
    public int Recorded => _count;

    /// <summary>The recorded bytes.</summary>
    public ReadOnlySpan<byte> RecordedBytes => _recorded.AsSpan(0, _count);

    /// <summary>How many bytes the replay has handed out: 0 means nothing of the body went anywhere yet.</summary>
    public long HandedOut => _position;

    /// <summary>
    /// Replays from the first byte from now on, looking for <paramref name="scan"/>'s delimiter in every byte handed
    /// out (where the file part ends, when it is known where it starts).
    /// </summary>
    public void Replay(BoundaryScan? scan = null)
    {
        _replaying = true;
        _scan = scan;
    }

    /// <summary>
    /// Streams the body through under the spooled path's rules: the file no longer than its limit, the parts after it
    /// checked (<see cref="UploadTail"/>) before the body's last byte is handed out, and the whole body arrived before
    /// <paramref name="deadline"/> fires (which the replay then owns and disposes).
    /// </summary>
    public void Enforce(UploadTail tail, long? contentLength, CancellationTokenSource? deadline, string? deadlineText)
    {
        DeadlineText = deadlineText;
        _tail = tail;
        _length = contentLength;
        _deadline = deadline;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_replaying)
        {
            var read = await _inner.ReadAsync(buffer, cancellationToken);
            Record(buffer.Span[..read]);
            return read;
        }
        int count;
        if (_replayed < _count)
        {
            count = Math.Min(buffer.Length, _count - _replayed);
            _recorded.AsSpan(_replayed, count).CopyTo(buffer.Span);
            _replayed += count;
        }
        else
        {
            count = await _inner.ReadAsync(buffer, cancellationToken);
        }
        // A zero-byte read (YARP waits for data with one) is not the end; 0 for a real buffer is.
        var ended = (count == 0 && !buffer.IsEmpty) || (count > 0 && _position + count == _length);
        if (_scan is { } scan)
        {
            var chunk = buffer.Span[..count];
            var known = scan.Found is not null;
            scan.Feed(chunk, _position);
            if (_tail is { } tail && Refusal is null)
            {
                if (scan.Found is { } end)
                {
                    // What follows the file part's closing delimiter: kept (small) to be checked at the end.
                    var from = known ? _position : end + scan.DelimiterLength;
                    if (from < _position + count && !tail.Append(chunk[(int)Math.Max(0, from - _position)..]))
                    {
                        Refusal = UploadTail.TooLong();
                    }
                }
                else if (_position + count - scan.Start > BatchUpload.MaxFileBytes)
                {
                    Refusal = BatchUpload.TooLarge(UploadLimits.ModelsApi);
                }
                if (Refusal is null && ended)
                {
                    Refusal = scan.Found is null ? UploadTail.Malformed() : await tail.CheckAsync(cancellationToken);
                }
                if (Refusal is not null)
                {
                    throw new UploadRefusedException(Refusal);
                }
            }
        }
        if (ended)
        {
            // All of it arrived: the deadline no longer applies (the upstream's answer has its own timeout).
            _ended = true;
            _deadline?.CancelAfter(Timeout.InfiniteTimeSpan);
        }
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private void Record(ReadOnlySpan<byte> bytes)
    {
        if (_count + bytes.Length > _recorded.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_recorded.Length * 2, _count + bytes.Length));
            _recorded.AsSpan(0, _count).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_recorded);
            _recorded = larger;
        }
        bytes.CopyTo(_recorded.AsSpan(_count));
        _count += bytes.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _tail?.Dispose();
            _deadline?.Dispose();
        }
        if (disposing && _recorded.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_recorded);
            _recorded = [];
            _count = 0;
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The body was refused as it streamed through (<see cref="UploadReplay.Refusal"/>): it breaks off here.</summary>
internal sealed class UploadRefusedException(Rejection refusal) : IOException(refusal.Detail)
{
    public Rejection Refusal => refusal;
}

/// <summary>
/// Finds the first multipart delimiter (<c>CRLF--boundary</c>) at or after <see cref="Start"/> in bytes fed in order
/// with their offsets, across the edges of the chunks: where the file part that starts at <see cref="Start"/> ends.
/// </summary>
internal sealed class BoundaryScan(byte[] delimiter, long start)
{
    private readonly byte[] _carry = new byte[delimiter.Length - 1];
    private int _carryCount;
    private long _carryOffset;

    public long Start => start;

    public int DelimiterLength => delimiter.Length;

    /// <summary>The offset where the delimiter begins, once it passed.</summary>
    public long? Found { get; private set; }

    public void Feed(ReadOnlySpan<byte> data, long offset)
    {
        if (Found is not null || offset + data.Length <= start)
        {
            return;
        }
        if (offset < start)
        {
            data = data[(int)(start - offset)..];
            offset = start;
        }
        if (_carryCount > 0)
        {
            // A delimiter that began in the previous chunk's last bytes.
            var take = Math.Min(data.Length, delimiter.Length - 1);
            Span<byte> joint = stackalloc byte[_carryCount + take];
            _carry.AsSpan(0, _carryCount).CopyTo(joint);
            data[..take].CopyTo(joint[_carryCount..]);
            if (joint.IndexOf(delimiter) is var i and >= 0)
            {
                Found = _carryOffset + i;
                return;
            }
        }
        if (data.IndexOf(delimiter) is var j and >= 0)
        {
            Found = offset + j;
            return;
        }
        var keep = delimiter.Length - 1;
        if (data.Length >= keep)
        {
            data[^keep..].CopyTo(_carry);
            _carryCount = keep;
            _carryOffset = offset + data.Length - keep;
        }
        else
        {
            // Old carry and the short chunk together: their last bytes.
            var total = _carryCount + data.Length;
            var drop = Math.Max(0, total - keep);
            Span<byte> both = stackalloc byte[total];
            _carry.AsSpan(0, _carryCount).CopyTo(both);
            data.CopyTo(both[_carryCount..]);
            both[drop..].CopyTo(_carry);
            _carryOffset = _carryCount > 0 ? _carryOffset + drop : offset + drop;
            _carryCount = total - drop;
        }
    }
}
