using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Tollgate.Backends.Reference.Codecs.Flac;

/// <summary>
/// Decodes complete FLAC frames (RFC 9639): constant, verbatim, fixed-predictor and LPC subframes with wasted bits,
/// Rice-coded residuals in partitions (4- and 5-bit parameters, escaped partitions), and left/side, right/side and
/// mid/side decorrelation. Samples are exact integers; the decoder keeps an MD5 of them, as STREAMINFO's is computed
/// (each sample little-endian in whole bytes, channels interleaved), and delivers the channels' mean scaled to [-1, 1].
/// Any inconsistency throws <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class FlacFrameDecoder : IDisposable
{
    private readonly FlacStreamInfo _info;
    private readonly long[][] _channels;
    private readonly float[] _mono;
    private readonly byte[] _md5Bytes;
    private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private readonly int _bytesPerSample;
    private readonly float _scale;

    public FlacFrameDecoder(FlacStreamInfo info)
    {
        _info = info;
        _channels = new long[info.Channels][];
        for (var c = 0; c < info.Channels; c++)
        {
            _channels[c] = new long[info.MaxBlockSize];
        }
        _mono = new float[info.MaxBlockSize];
        _bytesPerSample = (info.BitsPerSample + 7) / 8;
        _md5Bytes = new byte[info.MaxBlockSize * info.Channels * _bytesPerSample];
        _scale = 1f / (1L << (info.BitsPerSample - 1));
    }

    /// <summary>Samples (per channel) decoded so far.</summary>
    public long Samples { get; private set; }

    /// <summary>
    /// Decodes one frame (from its sync code through its CRC-16, already checked); returns the mono samples, valid
    /// until the next call.
    /// </summary>
    public ReadOnlySpan<float> Decode(ReadOnlySpan<byte> frame)
    {
        if (!FlacFrameHeader.TryParse(frame, _info, out var header, out _))
        {
            throw new InvalidDataException("An invalid FLAC frame header.");
        }
        if (header.SampleRate != _info.SampleRate || header.Channels != _info.Channels || header.BitsPerSample != _info.BitsPerSample)
        {
            throw new InvalidDataException("A FLAC frame whose rate, channels or sample size differ from STREAMINFO.");
        }
        if (header.BlockSize > _info.MaxBlockSize)
        {
            throw new InvalidDataException($"A FLAC frame of {header.BlockSize} samples, more than STREAMINFO's maximum {_info.MaxBlockSize}.");
        }
        var blockSize = header.BlockSize;
        var reader = new FlacBitReader(frame[header.Length..]);
        for (var c = 0; c < header.Channels; c++)
        {
            var bits = header.BitsPerSample + (IsSide(header.ChannelAssignment, c) ? 1 : 0);
            ReadSubframe(ref reader, _channels[c].AsSpan(0, blockSize), bits);
        }
        reader.AlignToByte();
        if (header.Length + reader.BytePosition + 2 != frame.Length)
        {
            throw new InvalidDataException("A FLAC frame's subframes do not end where its CRC-16 starts.");
        }
        Decorrelate(header.ChannelAssignment, blockSize);
        Samples += blockSize;
        return Output(blockSize);
    }

    /// <summary>Whether the samples decoded so far have the MD5 STREAMINFO states (true when it states none).</summary>
    public bool Md5Matches()
    {
        if (!_info.HasMd5)
        {
            return true;
        }
        Span<byte> hash = stackalloc byte[16];
        _md5.GetCurrentHash(hash);
        return hash.SequenceEqual(_info.Md5);
    }

    public void Dispose() => _md5.Dispose();

    private static bool IsSide(int assignment, int channel) =>
        (assignment == 8 && channel == 1) || (assignment == 9 && channel == 0) || (assignment == 10 && channel == 1);

    private static void ReadSubframe(ref FlacBitReader reader, Span<long> samples, int bits)
    {
        if (reader.ReadBits(1) != 0)
        {
            throw new InvalidDataException("A FLAC subframe header without its zero bit.");
        }
        var type = (int)reader.ReadBits(6);
        var wasted = 0;
        if (reader.ReadBits(1) == 1)
        {
            wasted = (int)reader.ReadUnary() + 1;
            if (wasted >= bits)
            {
                throw new InvalidDataException("A FLAC subframe with more wasted bits than bits.");
            }
            bits -= wasted;
        }
        switch (type)
        {
            case 0:
                samples.Fill(reader.ReadSigned(bits));
                break;
            case 1:
                for (var i = 0; i < samples.Length; i++)
                {
                    samples[i] = reader.ReadSigned(bits);
                }
                break;
            case >= 8 and <= 12:
                Fixed(ref reader, samples, bits, type - 8);
                break;
            case >= 32:
                Lpc(ref reader, samples, bits, type - 31);
                break;
            default:
                throw new InvalidDataException($"A reserved FLAC subframe type {type}.");
        }
        if (wasted > 0)
        {
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i] <<= wasted;
            }
        }
    }

    private static void Fixed(ref FlacBitReader reader, Span<long> s, int bits, int order)
    {
        WarmUp(ref reader, s, bits, order);
        Residual(ref reader, s, order);
        switch (order)
        {
            case 1:
                for (var i = 1; i < s.Length; i++)
                {
                    s[i] += s[i - 1];
                }
                break;
            case 2:
                for (var i = 2; i < s.Length; i++)
                {
                    s[i] += 2 * s[i - 1] - s[i - 2];
                }
                break;
            case 3:
                for (var i = 3; i < s.Length; i++)
                {
                    s[i] += 3 * s[i - 1] - 3 * s[i - 2] + s[i - 3];
                }
                break;
            case 4:
                for (var i = 4; i < s.Length; i++)
                {
                    s[i] += 4 * s[i - 1] - 6 * s[i - 2] + 4 * s[i - 3] - s[i - 4];
                }
                break;
        }
    }

    private static void Lpc(ref FlacBitReader reader, Span<long> s, int bits, int order)
    {
        WarmUp(ref reader, s, bits, order);
        var precision = (int)reader.ReadBits(4) + 1;
        if (precision == 16)
        {
            throw new InvalidDataException("A FLAC LPC subframe with the reserved coefficient precision.");
        }
        var shift = (int)reader.ReadSigned(5);
        if (shift < 0)
        {
            throw new InvalidDataException("A FLAC LPC subframe with a negative shift.");
        }
        Span<long> coefficients = stackalloc long[order];
        for (var j = 0; j < order; j++)
        {
            coefficients[j] = reader.ReadSigned(precision);
        }
        Residual(ref reader, s, order);
        for (var i = order; i < s.Length; i++)
        {
            long sum = 0;
            for (var j = 0; j < order; j++)
            {
                sum += coefficients[j] * s[i - 1 - j];
            }
            s[i] += sum >> shift;
        }
    }

    private static void WarmUp(ref FlacBitReader reader, Span<long> s, int bits, int order)
    {
        if (order > s.Length)
        {
            throw new InvalidDataException("A FLAC subframe whose predictor order exceeds its block size.");
        }
        for (var i = 0; i < order; i++)
        {
            s[i] = reader.ReadSigned(bits);
        }
    }

    /// <summary>The Rice-coded residual of samples [order, block size), written in place (the predictors add to it).</summary>
    private static void Residual(ref FlacBitReader reader, Span<long> s, int order)
    {
        var method = reader.ReadBits(2);
        if (method > 1)
        {
            throw new InvalidDataException("A reserved FLAC residual coding method.");
        }
        var parameterBits = method == 0 ? 4 : 5;
        var escape = method == 0 ? 15u : 31u;
        var partitionOrder = (int)reader.ReadBits(4);
        var partitionSize = s.Length >> partitionOrder;
        if (partitionSize << partitionOrder != s.Length || partitionSize < order)
        {
            throw new InvalidDataException("A FLAC residual whose partitions do not divide the block.");
        }
        var i = order;
        for (var p = 0; p < 1 << partitionOrder; p++)
        {
            var end = (p + 1) * partitionSize;
            var k = (int)reader.ReadBits(parameterBits);
            if (k == escape)
            {
                var raw = (int)reader.ReadBits(5);
                for (; i < end; i++)
                {
                    s[i] = reader.ReadSigned(raw);
                }
                continue;
            }
            for (; i < end; i++)
            {
                var quotient = reader.ReadUnary();
                var folded = ((ulong)quotient << k) | reader.ReadBits(k);
                s[i] = (long)(folded >> 1) ^ -(long)(folded & 1);
            }
        }
    }

    private void Decorrelate(int assignment, int n)
    {
        if (assignment < 8)
        {
            return;
        }
        var a = _channels[0];
        var b = _channels[1];
        for (var i = 0; i < n; i++)
        {
            switch (assignment)
            {
                case 8: // left, side
                    b[i] = a[i] - b[i];
                    break;
                case 9: // side, right
                    a[i] += b[i];
                    break;
                default: // mid, side
                    var mid = (a[i] << 1) | (b[i] & 1);
                    var side = b[i];
                    a[i] = (mid + side) >> 1;
                    b[i] = (mid - side) >> 1;
                    break;
            }
        }
    }

    private ReadOnlySpan<float> Output(int n)
    {
        var channels = _channels.Length;
        var width = _bytesPerSample;
        var bytes = _md5Bytes.AsSpan(0, n * channels * width);
        var at = 0;
        for (var i = 0; i < n; i++)
        {
            long sum = 0;
            for (var c = 0; c < channels; c++)
            {
                var v = _channels[c][i];
                sum += v;
                switch (width)
                {
                    case 1:
                        bytes[at] = (byte)v;
                        break;
                    case 2:
                        BinaryPrimitives.WriteInt16LittleEndian(bytes[at..], (short)v);
                        break;
                    case 3:
                        bytes[at] = (byte)v;
                        bytes[at + 1] = (byte)(v >> 8);
                        bytes[at + 2] = (byte)(v >> 16);
                        break;
                    default:
                        BinaryPrimitives.WriteInt32LittleEndian(bytes[at..], (int)v);
                        break;
                }
                at += width;
            }
            _mono[i] = Math.Clamp(sum * _scale / channels, -1f, 1f);
        }
        _md5.AppendData(bytes);
        return _mono.AsSpan(0, n);
    }
}
