using System.Buffers.Binary;
using Tollgate.Audio;

namespace Tollgate.Backends.Reference.Codecs.Flac;

/// <summary>
/// A native FLAC stream (optionally behind an ID3v2 tag), fed in chunks: <c>fLaC</c>, the metadata blocks (STREAMINFO
/// read, the others skipped without being held), then frames. FLAC frames carry no length, so a frame ends where the
/// next frame's header starts: a valid header (CRC-8) carrying the next frame's number (a sync pattern inside a
/// frame's data fails one of those checks). The bytes up to it must then pass the frame's CRC-16, or the stream is
/// damaged; the last frame ends with the stream (an ID3v1 tag after it is ignored) and must pass it too. At the end the MD5 of every decoded sample
/// must equal STREAMINFO's when the stream was decoded whole. Holds at most <see cref="MaxFrameBytes"/> of input.
/// </summary>
internal sealed class FlacStreamDecoder : CompressedDecoder, IDisposable
{
    /// <summary>A frame's largest possible size is about 2 MB (65,535 samples of 8 channels of 32 bits, stored verbatim).</summary>
    public const int MaxFrameBytes = 4 * 1024 * 1024;

    private enum Step { Magic, BlockHeader, StreamInfo, SkipBlock, Frames }

    private readonly ByteQueue _queue = new(MaxFrameBytes);
    private Step _step = Step.Magic;
    private long _skip;
    private bool _lastBlock;
    private int _blockLength;
    private FlacStreamInfo? _info;
    private FlacFrameDecoder? _frames;
    private int _scanFrom;
    private long? _expected;

    public override AudioContainer Container => AudioContainer.Flac;

    public void Dispose() => _frames?.Dispose();

    protected override void FeedCore(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && Healthy)
        {
            if (_skip > 0)
            {
                var skipped = (int)Math.Min(_skip, bytes.Length);
                _skip -= skipped;
                bytes = bytes[skipped..];
                continue;
            }
            var taken = _queue.Append(bytes);
            bytes = bytes[taken..];
            Process(final: false);
            if (taken == 0 && _queue.Count == _queue.Limit && Healthy)
            {
                Corrupt($"no FLAC frame boundary within {MaxFrameBytes / (1024 * 1024)} MB");
            }
        }
    }

    protected override void FinishCore()
    {
        Process(final: true);
        if (!Healthy)
        {
            return;
        }
        if (_step != Step.Frames || _skip > 0)
        {
            Corrupt("the FLAC stream ends inside its metadata");
            return;
        }
        if (_queue.Count > 0)
        {
            DecodeLast();
        }
        if (Healthy && _frames!.Samples == _info!.TotalSamples && !_frames.Md5Matches())
        {
            Corrupt("the decoded samples do not match STREAMINFO's MD5");
        }
    }

    private void Process(bool final)
    {
        while (Healthy && _skip == 0)
        {
            var span = _queue.Span;
            switch (_step)
            {
                case Step.Magic:
                    if (span.Length < 10)
                    {
                        return;
                    }
                    if (span.StartsWith("ID3"u8))
                    {
                        var size = 10L + ((span[6] & 0x7F) << 21 | (span[7] & 0x7F) << 14 | (span[8] & 0x7F) << 7 | (span[9] & 0x7F)) + ((span[5] & 0x10) != 0 ? 10 : 0);
                        Skip(size);
                        continue;
                    }
                    if (!span.StartsWith("fLaC"u8))
                    {
                        Unsupported("no fLaC signature");
                        return;
                    }
                    _queue.Consume(4);
                    _step = Step.BlockHeader;
                    continue;
                case Step.BlockHeader:
                    if (span.Length < 4)
                    {
                        return;
                    }
                    _lastBlock = (span[0] & 0x80) != 0;
                    var type = span[0] & 0x7F;
                    _blockLength = (span[1] << 16) | (span[2] << 8) | span[3];
                    _queue.Consume(4);
                    if (_info is null && (type != 0 || _blockLength != FlacStreamInfo.Length))
                    {
                        Corrupt("the first FLAC metadata block is not STREAMINFO");
                        return;
                    }
                    if (type == 127)
                    {
                        Corrupt("an invalid FLAC metadata block type");
                        return;
                    }
                    _step = type == 0 && _info is null ? Step.StreamInfo : Step.SkipBlock;
                    continue;
                case Step.StreamInfo:
                    if (span.Length < FlacStreamInfo.Length)
                    {
                        return;
                    }
                    _info = FlacStreamInfo.Parse(span);
                    _queue.Consume(FlacStreamInfo.Length);
                    if (_info is null)
                    {
                        Corrupt("an invalid STREAMINFO block");
                        return;
                    }
                    _frames = new FlacFrameDecoder(_info);
                    AfterBlock();
                    continue;
                case Step.SkipBlock:
                    Skip(_blockLength);
                    AfterBlock();
                    continue;
                default:
                    if (!NextFrame(final))
                    {
                        return;
                    }
                    continue;
            }
        }
    }

    private void Skip(long bytes)
    {
        var now = (int)Math.Min(bytes, _queue.Count);
        _queue.Consume(now);
        _skip = bytes - now;
    }

    private void AfterBlock()
    {
        if (_lastBlock)
        {
            _step = Step.Frames;
            Start(_info!.SampleRate);
        }
        else
        {
            _step = Step.BlockHeader;
        }
    }

    /// <summary>Decodes the frame at the start of the queue once the next frame's header shows where it ends.</summary>
    private bool NextFrame(bool final)
    {
        var span = _queue.Span;
        if (span.Length < FlacFrameHeader.MaxLength && !final)
        {
            return false;
        }
        if (!FlacFrameHeader.TryParse(span, _info!, out var current, out _))
        {
            Corrupt("FLAC frame data without a valid frame header");
            return false;
        }
        if (_expected is { } expected && current.Number != expected)
        {
            Corrupt($"FLAC frame {current.Number} where {expected} was due");
            return false;
        }
        var next = current.Number + (current.VariableBlocks ? current.BlockSize : 1);
        var from = Math.Max(_scanFrom, current.Length);
        while (from < span.Length)
        {
            var found = span[from..].IndexOf((byte)0xFF);
            if (found < 0)
            {
                break;
            }
            var at = from + found;
            if (FlacFrameHeader.TryParse(span[at..], _info!, out var candidate, out var needMore))
            {
                if (candidate.Number == next && candidate.VariableBlocks == current.VariableBlocks)
                {
                    if (FlacFrameHeader.Crc16(span[..(at - 2)]) != BinaryPrimitives.ReadUInt16BigEndian(span[(at - 2)..]))
                    {
                        Corrupt($"FLAC frame {current.Number} fails its CRC-16");
                        return false;
                    }
                    Emit(_frames!.Decode(span[..at]));
                    _queue.Consume(at);
                    _scanFrom = 0;
                    _expected = next;
                    return true;
                }
            }
            else if (needMore && !final)
            {
                _scanFrom = at;
                return false;
            }
            from = at + 1;
        }
        if (span.Length > LongestFrame(current))
        {
            Corrupt($"no FLAC frame {next} where frame {current.Number} must have ended");
            return false;
        }
        _scanFrom = Math.Max(current.Length, span.Length - FlacFrameHeader.MaxLength);
        return false;
    }

    /// <summary>
    /// Twice the bytes of the frame stored verbatim (every sample in full, side channels one bit wider): no encoder's
    /// frame comes near it, so not finding the next frame within it means the data is damaged.
    /// </summary>
    private static long LongestFrame(in FlacFrameHeader header)
    {
        var bits = header.Channels * (16L + (long)header.BlockSize * (header.BitsPerSample + 1));
        return 2 * (FlacFrameHeader.MaxLength + 2 + bits / 8 + 1);
    }

    private void DecodeLast()
    {
        var span = _queue.Span;
        if (!PassesCrc(span) && span.Length > 128 && span[^128..].StartsWith("TAG"u8) && PassesCrc(span[..^128]))
        {
            span = span[..^128];
        }
        if (!PassesCrc(span))
        {
            Corrupt("the last FLAC frame is incomplete or fails its CRC-16");
            return;
        }
        if (FlacFrameHeader.TryParse(span, _info!, out var header, out _) && _expected is { } expected && header.Number != expected)
        {
            Corrupt($"FLAC frame {header.Number} where {expected} was due");
            return;
        }
        Emit(_frames!.Decode(span));
        _queue.Clear();
    }

    private static bool PassesCrc(ReadOnlySpan<byte> frame) =>
        frame.Length > FlacFrameHeader.MaxLength / 2 && FlacFrameHeader.Crc16(frame[..^2]) == BinaryPrimitives.ReadUInt16BigEndian(frame[^2..]);
}
