using Tollgate.Audio;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Codecs;

/// <summary>Receives a compressed stream's decoded audio: its rate once the headers are read, then mono samples in [-1, 1].</summary>
internal interface IDecodeSink : IMonoSink
{
    /// <summary>Called once, before the first <see cref="IMonoSink.Write"/>, with the rate of the decoded samples.</summary>
    void Start(int sampleRate);
}

/// <summary>Where a compressed decoder stands.</summary>
internal enum DecoderStatus
{
    /// <summary>Reading the stream's headers: nothing decoded yet.</summary>
    Headers,
    /// <summary>The headers were read (<see cref="IDecodeSink.Start"/> was called): samples follow.</summary>
    Decoding,
    /// <summary>
    /// The bytes are not this format after all, or a variant this decoder does not handle (free-format MP3, an Ogg
    /// stream of another codec, Opus with an unknown channel mapping); only ever before decoding starts, so the
    /// caller can still treat the audio as undecodable-but-valid, as before there were decoders.
    /// </summary>
    Unsupported,
    /// <summary>The data is damaged: a failed checksum, an impossible header or frame, a checksum of the whole stream that does not match.</summary>
    Corrupt,
}

/// <summary>
/// Compressed container bytes in, mono float PCM out, pushed in chunks split anywhere (WebSocket frames, file
/// reads). Each decoder holds at most a bounded amount of input (a frame, page or packet, capped by a constant,
/// never by a size the stream claims), so memory does not grow with the stream. Every failure of the underlying
/// codec, including an exception thrown by a library on hostile data, ends in <see cref="DecoderStatus.Corrupt"/>:
/// nothing escapes <see cref="Feed"/> or <see cref="Finish"/>.
/// </summary>
internal abstract class CompressedDecoder
{
    private IDecodeSink? _sink;
    private int _sampleRate;

    public DecoderStatus Status { get; private set; }

    /// <summary>Why the decoder stopped (for logs and tests).</summary>
    public string? Problem { get; private set; }

    /// <summary>The container the bytes turned out to be.</summary>
    public abstract AudioContainer Container { get; }

    /// <summary>The rate of the decoded samples; 0 until the headers were read.</summary>
    public int SampleRate => _sampleRate;

    /// <summary>Mono samples delivered so far (after priming and padding were removed).</summary>
    public long Frames { get; private set; }

    /// <summary>Whole milliseconds delivered so far (rounded down).</summary>
    public long DurationMs => _sampleRate == 0 ? 0 : Frames * 1000 / _sampleRate;

    /// <summary>Whether the stream is still usable (headers or samples).</summary>
    public bool Healthy => Status is DecoderStatus.Headers or DecoderStatus.Decoding;

    /// <summary>The decoder for a probed container and codec, or null when the reference has none (AAC, MP4, WMA, AMR...).</summary>
    public static CompressedDecoder? For(AudioContainer container, string codec) => container switch
    {
        AudioContainer.Mp3 => new Mp3.Mp3Decoder(),
        AudioContainer.Flac => new Flac.FlacStreamDecoder(),
        AudioContainer.Ogg when codec is "vorbis" or "opus" or "flac" => new Ogg.OggDecoder(),
        AudioContainer.Matroska when codec is "vorbis" or "opus" => new Matroska.MatroskaDecoder(),
        _ => null,
    };

    /// <summary>
    /// The decoder a stream's first bytes call for: Ogg, WebM/Matroska, native FLAC, or MP3 (an ID3v2 tag or an MPEG audio frame
    /// header); null when they are none of those. A guess from an ID3 tag or a frame sync is confirmed by the decoder
    /// itself (it reports <see cref="DecoderStatus.Unsupported"/> when the frames are not there).
    /// </summary>
    public static CompressedDecoder? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("OggS"u8))
        {
            return new Ogg.OggDecoder();
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return new Matroska.MatroskaDecoder();
        }
        if (head.StartsWith("fLaC"u8))
        {
            return new Flac.FlacStreamDecoder();
        }
        if (head.StartsWith("ID3"u8) || Mp3.Mp3FrameHeader.TryParse(head, out _))
        {
            return new Mp3.Mp3Decoder();
        }
        return null;
    }

    /// <summary>Decodes what <paramref name="bytes"/> complete; samples go to <paramref name="sink"/> as they are ready.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, IDecodeSink sink)
    {
        if (!Healthy || bytes.IsEmpty)
        {
            return;
        }
        _sink = sink;
        try
        {
            FeedCore(bytes);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Corrupt("the codec failed: " + ex.GetType().Name);
        }
        finally
        {
            _sink = null;
        }
    }

    /// <summary>The end of the stream: decodes what is still buffered and checks what can only be checked at the end.</summary>
    public void Finish(IDecodeSink sink)
    {
        if (!Healthy)
        {
            return;
        }
        _sink = sink;
        try
        {
            FinishCore();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Corrupt("the codec failed: " + ex.GetType().Name);
        }
        finally
        {
            _sink = null;
        }
    }

    protected abstract void FeedCore(ReadOnlySpan<byte> bytes);

    protected abstract void FinishCore();

    /// <summary>The headers are read: decoded samples at <paramref name="sampleRate"/> follow.</summary>
    protected void Start(int sampleRate)
    {
        if (Status != DecoderStatus.Headers)
        {
            return;
        }
        _sampleRate = sampleRate;
        Status = DecoderStatus.Decoding;
        _sink!.Start(sampleRate);
    }

    /// <summary>Delivers mono samples (only while decoding).</summary>
    protected void Emit(ReadOnlySpan<float> mono)
    {
        if (Status == DecoderStatus.Decoding && !mono.IsEmpty)
        {
            Frames += mono.Length;
            _sink!.Write(mono);
        }
    }

    protected void Corrupt(string problem)
    {
        if (Healthy)
        {
            Problem = problem;
            Status = DecoderStatus.Corrupt;
        }
    }

    protected void Unsupported(string problem)
    {
        if (Status == DecoderStatus.Headers)
        {
            Problem = problem;
            Status = DecoderStatus.Unsupported;
        }
        else
        {
            Corrupt(problem);
        }
    }
}
