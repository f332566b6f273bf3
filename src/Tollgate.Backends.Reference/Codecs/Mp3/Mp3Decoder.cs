using System.Buffers.Binary;
using NLayer;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Audio;

namespace Tollgate.Backends.Reference.Codecs.Mp3;

/// <summary>
/// MPEG audio (MP3, and layers I/II) through NLayer, fed in chunks. Frames are found by their headers: the first one
/// must be followed by another of the same stream (or end the data), ID3v2 tags are skipped wherever they stand, and
/// bytes that are no frame are skipped to the next frame; more than <see cref="MaxJunkBytes"/> of them between two
/// frames means the stream is damaged. A Xing/Info (LAME) or VBRI frame carries no audio and is not decoded; its
/// LAME extension gives the encoder delay and padding, so the decoded samples drop the priming (the encoder delay
/// plus the decoder's 529-sample filter delay, as ffmpeg and mpg123 count it) and stop at the stream's real length:
/// the output lines up sample for sample with the audio that was encoded. Without a LAME tag nothing is trimmed.
/// At most 64 KB of input is held.
/// </summary>
internal sealed class Mp3Decoder : CompressedDecoder
{
    /// <summary>Non-frame bytes tolerated between two frames (tags and trailers at the very end are not counted).</summary>
    public const int MaxJunkBytes = 4096;

    /// <summary>Bytes searched for a first frame (after any ID3v2 tag) before the data is deemed not MPEG audio.</summary>
    private const int MaxSearchBytes = 64 * 1024;

    /// <summary>The synthesis filter bank's delay in samples (the "528 + 1" of ffmpeg's and mpg123's gapless handling).</summary>
    private const int DecoderDelay = 529;

    private readonly ByteQueue _queue = new(64 * 1024);
    private readonly MpegFrameDecoder _decoder = new() { StereoMode = StereoMode.Both };
    private readonly MpegFrame _frame = new();
    private readonly float[] _pcm = new float[2 * 1152];
    private readonly float[] _mono = new float[1152];
    private Mp3FrameHeader _stream;
    private bool _locked;
    private bool _firstFrame = true;
    private long _tagSkip;
    private long _searched;
    private long _junk;
    private long _decodedSamples;
    private long _skipSamples;
    private long? _totalSamples;

    public override AudioContainer Container => AudioContainer.Mp3;

    protected override void FeedCore(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && Healthy)
        {
            if (_tagSkip > 0)
            {
                var skipped = (int)Math.Min(_tagSkip, bytes.Length);
                _tagSkip -= skipped;
                bytes = bytes[skipped..];
                continue;
            }
            var taken = _queue.Append(bytes);
            bytes = bytes[taken..];
            Process(final: false);
        }
    }

    protected override void FinishCore()
    {
        Process(final: true);
        if (Healthy && !_locked)
        {
            Unsupported("no MPEG audio frames");
        }
    }

    private void Process(bool final)
    {
        while (Healthy && _tagSkip == 0)
        {
            var span = _queue.Span;
            if (span.Length < 10 && !final)
            {
                return;
            }
            if (span.Length >= 10 && span.StartsWith("ID3"u8) && span[3] != 0xFF && span[4] != 0xFF)
            {
                SkipId3(span);
                continue;
            }
            if (span.Length < Mp3FrameHeader.Size)
            {
                return;
            }
            if (Mp3FrameHeader.TryParse(span, out var header) && (!_locked || header.Matches(_stream)))
            {
                if (span.Length < header.Length)
                {
                    if (final)
                    {
                        _queue.Clear(); // A truncated last frame: nothing to decode.
                    }
                    return;
                }
                if (!_locked && !ConfirmFirst(span, header, final, out var needMore))
                {
                    if (needMore)
                    {
                        return;
                    }
                    SkipJunk(1);
                    continue;
                }
                OnFrame(span[..header.Length], header);
                _queue.Consume(header.Length);
                continue;
            }
            var next = span[1..].IndexOf((byte)0xFF);
            SkipJunk(next < 0 ? span.Length : next + 1);
            if (final && _queue.Count == 0)
            {
                return;
            }
        }
    }

    /// <summary>The first frame counts only when the next one follows it (or the data ends with it).</summary>
    private static bool ConfirmFirst(ReadOnlySpan<byte> span, in Mp3FrameHeader header, bool final, out bool needMore)
    {
        needMore = false;
        if (span.Length < header.Length + Mp3FrameHeader.Size)
        {
            needMore = !final;
            return final && span.Length == header.Length;
        }
        return Mp3FrameHeader.TryParse(span[header.Length..], out var next) && next.Matches(header);
    }

    private void SkipId3(ReadOnlySpan<byte> span)
    {
        var size = (span[6] & 0x7F) << 21 | (span[7] & 0x7F) << 14 | (span[8] & 0x7F) << 7 | (span[9] & 0x7F);
        var total = 10L + size + ((span[5] & 0x10) != 0 ? 10 : 0);
        var now = (int)Math.Min(total, span.Length);
        _queue.Consume(now);
        _tagSkip = total - now;
    }

    private void SkipJunk(int bytes)
    {
        _queue.Consume(bytes);
        if (_locked)
        {
            _junk += bytes;
            return;
        }
        _searched += bytes;
        if (_searched > MaxSearchBytes)
        {
            Unsupported("no MPEG audio frame in the first " + MaxSearchBytes / 1024 + " KB");
        }
    }

    private void OnFrame(ReadOnlySpan<byte> frame, in Mp3FrameHeader header)
    {
        if (!_locked)
        {
            _locked = true;
            _stream = header;
            Start(header.SampleRate);
        }
        if (_junk > MaxJunkBytes)
        {
            Corrupt($"{_junk} bytes that are no MPEG audio between two frames");
            return;
        }
        _junk = 0;
        if (_firstFrame)
        {
            _firstFrame = false;
            if (ReadInfoFrame(frame, header))
            {
                return;
            }
        }
        _frame.Load(header, frame);
        var count = _decoder.DecodeFrame(_frame, _pcm, 0);
        var channels = header.Channels;
        var samples = count / channels;
        for (var i = 0; i < samples; i++)
        {
            _mono[i] = SampleCodec.Clip(channels == 1 ? _pcm[i] : (_pcm[2 * i] + _pcm[2 * i + 1]) * 0.5f);
        }
        var position = _decodedSamples;
        _decodedSamples += samples;
        var from = (int)Math.Clamp(_skipSamples - position, 0, samples);
        var to = _totalSamples is { } total ? (int)Math.Clamp(_skipSamples + total - position, from, samples) : samples;
        Emit(_mono.AsSpan(from, to - from));
    }

    /// <summary>
    /// A Xing/Info or VBRI frame: true, and its LAME extension (written by LAME and by ffmpeg) sets the priming to skip
    /// and the length to keep.
    /// </summary>
    private bool ReadInfoFrame(ReadOnlySpan<byte> frame, in Mp3FrameHeader header)
    {
        if (header.Layer != 3)
        {
            return false;
        }
        if (frame.Length >= 40 && frame[36..40].SequenceEqual("VBRI"u8))
        {
            return true;
        }
        var at = Mp3FrameHeader.Size + (header.HasCrc ? 2 : 0) + header.SideInfoLength;
        if (frame.Length < at + 8 || !(frame[at..(at + 4)].SequenceEqual("Xing"u8) || frame[at..(at + 4)].SequenceEqual("Info"u8)))
        {
            return false;
        }
        var flags = BinaryPrimitives.ReadUInt32BigEndian(frame[(at + 4)..]);
        var p = at + 8;
        long? frames = null;
        if ((flags & 1) != 0 && frame.Length >= p + 4)
        {
            frames = BinaryPrimitives.ReadUInt32BigEndian(frame[p..]);
            p += 4;
        }
        p += ((flags & 2) != 0 ? 4 : 0) + ((flags & 4) != 0 ? 100 : 0) + ((flags & 8) != 0 ? 4 : 0);
        if (frame.Length >= p + 24)
        {
            var encoder = frame.Slice(p, 4);
            if (encoder.SequenceEqual("LAME"u8) || encoder.SequenceEqual("Lavf"u8) || encoder.SequenceEqual("Lavc"u8))
            {
                var delay = (frame[p + 21] << 4) | (frame[p + 22] >> 4);
                var padding = ((frame[p + 22] & 0x0F) << 8) | frame[p + 23];
                _skipSamples = delay + DecoderDelay;
                if (frames is { } count)
                {
                    _totalSamples = Math.Max(0, count * header.SampleCount - delay - padding);
                }
            }
        }
        return true;
    }
}
