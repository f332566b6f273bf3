using NLayer;

namespace Tollgate.Backends.Reference.Codecs.Mp3;

/// <summary>One complete MPEG audio frame in memory, as NLayer's <see cref="MpegFrameDecoder"/> reads it (bits after the header and CRC).</summary>
internal sealed class MpegFrame : IMpegFrame
{
    private readonly byte[] _data = new byte[Mp3FrameHeader.MaxLength];
    private Mp3FrameHeader _header;
    private int _readOffset;
    private int _bitsInBucket;
    private ulong _bucket;

    public int SampleRate => _header.SampleRate;

    public int SampleRateIndex => _header.SampleRateIndex;

    public int FrameLength => _header.Length;

    public int BitRate => _header.BitRate;

    public MpegVersion Version => _header.Version switch
    {
        1 => MpegVersion.Version1,
        2 => MpegVersion.Version2,
        _ => MpegVersion.Version25,
    };

    public MpegLayer Layer => _header.Layer switch
    {
        1 => MpegLayer.LayerI,
        2 => MpegLayer.LayerII,
        _ => MpegLayer.LayerIII,
    };

    public MpegChannelMode ChannelMode => _header.ChannelMode switch
    {
        0 => MpegChannelMode.Stereo,
        1 => MpegChannelMode.JointStereo,
        2 => MpegChannelMode.DualChannel,
        _ => MpegChannelMode.Mono,
    };

    public int ChannelModeExtension => _header.ModeExtension;

    public int SampleCount => _header.SampleCount;

    public int BitRateIndex => _header.BitRateIndex;

    public bool IsCopyrighted => _header.Copyright;

    public bool HasCrc => _header.HasCrc;

    /// <summary>The CRC (when present) is not checked: frame sync and length checks catch damaged framing.</summary>
    public bool IsCorrupted => false;

    public void Load(in Mp3FrameHeader header, ReadOnlySpan<byte> frame)
    {
        _header = header;
        frame[..header.Length].CopyTo(_data);
        Reset();
    }

    public void Reset()
    {
        _readOffset = Mp3FrameHeader.Size + (_header.HasCrc ? 2 : 0);
        _bitsInBucket = 0;
        _bucket = 0;
    }

    public int ReadBits(int bitCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitCount, 32);
        while (_bitsInBucket < bitCount)
        {
            if (_readOffset >= _header.Length)
            {
                throw new EndOfStreamException("Read past the end of an MPEG frame.");
            }
            _bucket = (_bucket << 8) | _data[_readOffset++];
            _bitsInBucket += 8;
        }
        var value = (int)((_bucket >> (_bitsInBucket - bitCount)) & ((1UL << bitCount) - 1));
        _bitsInBucket -= bitCount;
        return value;
    }
}
