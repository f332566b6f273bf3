using Tollgate.Models;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Backends.Reference.Containers;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// The input side of a streaming connection. Raw formats are decoded from the first byte (their first 12 bytes are
/// checked for a container signature: container bytes on a raw channel are "not the declared format"). WAV/AIFF/AU,
/// declared or detected from the first 12 bytes, have their header read incrementally and their samples decoded
/// after it. MP3, FLAC, Ogg (Vorbis, Opus, FLAC) and WebM (Opus, Vorbis), recognised from their first bytes, are decoded as they arrive
/// by a <see cref="CompressedDecoder"/> (memory bounded by one frame, page or packet); the container must be the
/// declared format (or one the channel takes), and damaged data fails the stream at once. A WAV/AIFF/AU whose samples
/// are compressed, and every format with no decoder here (AAC, MP4, WMA, AMR), go to a temporary file and are probed at the
/// end. Decoded samples are counted exactly and fed to the channel's analyses.
/// </summary>
internal sealed class StreamAnalyzer : IStreamAnalyzer, IDecodeSink
{
    private enum Mode { Detect, Header, Pcm, Decode, Compressed }

    /// <summary>
    /// Header bytes kept in case a WAV/AIFF/AU turns out to hold compressed samples, or bytes that looked like MP3 turn
    /// out not to be, and must be spooled whole.
    /// </summary>
    private const int MaxRetainedHeaderBytes = 1024 * 1024;

    private readonly StreamSettings _settings;
    private readonly ModelStream _model;
    private readonly AudioSpool _spool = new();
    private readonly byte[] _head = new byte[ContainerSniffer.HeadBytes];
    private int _headCount;
    private bool _sniffRaw;
    private Mode _mode;
    private HeaderReader? _header;
    private bool _headerDeclared;
    private MemoryStream? _retained;
    private PcmDecoder? _decoder;
    private CompressedDecoder? _compressed;
    private SignalPipeline? _pipeline;
    private IMonoSink? _tap;
    private long _dataRemaining = long.MaxValue;
    private long _bytesIn;
    private long _probedMs;
    private bool _completed;

    public StreamAnalyzer(StreamSettings settings, ModelStream model)
    {
        _settings = settings;
        _model = model;
        if (settings.Raw is { } raw)
        {
            StartPcm(new PcmFormat(raw, settings.SampleRate, settings.Channels));
            _sniffRaw = true;
        }
        else if (settings.AudioFormat is not null && HeaderReader.For(Declared(settings.AudioFormat)) is { } reader)
        {
            StartHeader(reader, declared: true);
        }
        else
        {
            _mode = Mode.Detect;
        }
    }

    public long DurationMs => _decoder?.DurationMs ?? _compressed?.DurationMs ?? _probedMs;

    public StreamOutcome? Failure { get; private set; }

    public void Append(ReadOnlySpan<byte> audio, List<StreamEvent> events)
    {
        if (Failure is not null || _completed || audio.IsEmpty)
        {
            return;
        }
        _bytesIn += audio.Length;
        _model.Begin(events);
        try
        {
            Consume(audio);
            if (_pipeline is not null && Failure is null)
            {
                _model.AfterAppend(_pipeline);
            }
        }
        finally
        {
            _model.End();
        }
    }

    public StreamOutcome Complete(List<StreamEvent> events)
    {
        if (Failure is { } failed)
        {
            return failed;
        }
        if (_completed)
        {
            throw new InvalidOperationException("The stream is already complete.");
        }
        _completed = true;
        _model.Begin(events);
        try
        {
            if (_mode == Mode.Detect && _headCount > 0)
            {
                _mode = Mode.Compressed;
                _spool.Write(_head.AsSpan(0, _headCount));
            }
            if (_mode == Mode.Header && _bytesIn > 0)
            {
                return Fail(_headerDeclared ? _settings.MismatchedAudioError : _settings.UndecodableAudioError);
            }
            if (_mode == Mode.Decode)
            {
                _compressed!.Finish(this);
                AfterDecode();
                if (Failure is { } undecodable)
                {
                    return undecodable;
                }
            }
            if (_mode == Mode.Compressed && _bytesIn > 0)
            {
                return FinishCompressed();
            }
            _pipeline?.Finish();
            _model.Finish(DurationMs);
            return StreamOutcome.Success;
        }
        finally
        {
            _model.End();
        }
    }

    public void Dispose()
    {
        _spool.Dispose();
        (_compressed as IDisposable)?.Dispose();
    }

    void IMonoSink.Write(ReadOnlySpan<float> samples)
    {
        if (Failure is not null)
        {
            return;
        }
        _tap?.Write(samples);
        _pipeline!.Write(samples);
    }

    /// <summary>A compressed stream's headers are read: its container is now known, and its samples follow.</summary>
    void IDecodeSink.Start(int sampleRate)
    {
        _retained = null;
        var names = ContainerExtensions.For(_compressed!.Container);
        var matches = _settings.AudioFormat is { } declared ? names.Contains(declared) : names.Any(_settings.Model.StreamFormats.Contains);
        if (!matches)
        {
            Fail(_settings.MismatchedAudioError);
            return;
        }
        StartSignal(sampleRate);
    }

    private static SniffedContainer Declared(string format) => format switch
    {
        "wav" => SniffedContainer.Wav,
        "aiff" => SniffedContainer.Aiff,
        "au" => SniffedContainer.Au,
        _ => SniffedContainer.Unknown,
    };

    private void Consume(ReadOnlySpan<byte> audio)
    {
        if (_mode == Mode.Detect)
        {
            var take = Math.Min(_head.Length - _headCount, audio.Length);
            audio[..take].CopyTo(_head.AsSpan(_headCount));
            _headCount += take;
            audio = audio[take..];
            if (_headCount < _head.Length)
            {
                return;
            }
            if (_settings.AudioFormat is null && HeaderReader.For(ContainerSniffer.Identify(_head)) is { } reader)
            {
                StartHeader(reader, declared: false);
                ConsumeHeader(_head);
            }
            else if (CompressedDecoder.Sniff(_head) is { } decoder)
            {
                _compressed = decoder;
                _retained = new MemoryStream();
                _mode = Mode.Decode;
                ConsumeCompressed(_head);
            }
            else
            {
                _mode = Mode.Compressed;
                _spool.Write(_head);
            }
        }
        if (Failure is not null)
        {
            return;
        }
        switch (_mode)
        {
            case Mode.Header:
                ConsumeHeader(audio);
                break;
            case Mode.Pcm:
                ConsumePcm(audio);
                break;
            case Mode.Decode:
                ConsumeCompressed(audio);
                break;
            case Mode.Compressed:
                _spool.Write(audio);
                break;
        }
    }

    private void StartHeader(HeaderReader reader, bool declared)
    {
        _header = reader;
        _headerDeclared = declared;
        _retained = new MemoryStream();
        _mode = Mode.Header;
    }

    private void ConsumeHeader(ReadOnlySpan<byte> bytes)
    {
        var header = _header!;
        var used = header.Feed(bytes);
        Retain(bytes[..used]);
        switch (header.Status)
        {
            case HeaderStatus.Ready:
                _retained = null;
                StartPcm(header.Header!.Format);
                _dataRemaining = header.Header.DataBytes ?? long.MaxValue;
                ConsumePcm(bytes[used..]);
                break;
            case HeaderStatus.Invalid:
                Fail(_headerDeclared ? _settings.MismatchedAudioError : _settings.UndecodableAudioError);
                break;
            case HeaderStatus.NotPcm when _retained is { } retained:
                _mode = Mode.Compressed;
                _spool.Write(retained.GetBuffer().AsSpan(0, (int)retained.Length));
                _retained = null;
                _spool.Write(bytes[used..]);
                break;
            case HeaderStatus.NotPcm:
                Fail(_settings.UndecodableAudioError);
                break;
        }
    }

    private void Retain(ReadOnlySpan<byte> bytes)
    {
        if (_retained is null)
        {
            return;
        }
        if (_retained.Length + bytes.Length > MaxRetainedHeaderBytes)
        {
            _retained = null;
            return;
        }
        _retained.Write(bytes);
    }

    private void StartPcm(PcmFormat format)
    {
        _decoder = new PcmDecoder(format);
        StartSignal(format.SampleRate);
        _mode = Mode.Pcm;
    }

    private void StartSignal(int sampleRate)
    {
        _pipeline = new SignalPipeline(sampleRate, _model.Features, _model);
        _tap = _model.OnPcmStart(sampleRate);
    }

    private void ConsumeCompressed(ReadOnlySpan<byte> bytes)
    {
        Retain(bytes);
        _compressed!.Feed(bytes, this);
        AfterDecode();
    }

    /// <summary>
    /// Damaged data fails the stream; bytes that were not this format after all (or a variant the decoder does not
    /// handle) are spooled and probed at the end, as every format without a decoder is.
    /// </summary>
    private void AfterDecode()
    {
        switch (_compressed!.Status)
        {
            case DecoderStatus.Corrupt:
                Fail(_settings.UndecodableAudioError);
                break;
            case DecoderStatus.Unsupported when _retained is { } retained:
                _mode = Mode.Compressed;
                _spool.Write(retained.GetBuffer().AsSpan(0, (int)retained.Length));
                _retained = null;
                (_compressed as IDisposable)?.Dispose();
                _compressed = null;
                break;
            case DecoderStatus.Unsupported:
                Fail(_settings.UndecodableAudioError);
                break;
            case DecoderStatus.Headers when _completed:
                Fail(_settings.UndecodableAudioError);
                break;
        }
    }

    private void ConsumePcm(ReadOnlySpan<byte> bytes)
    {
        if (_sniffRaw)
        {
            var take = Math.Min(_head.Length - _headCount, bytes.Length);
            bytes[..take].CopyTo(_head.AsSpan(_headCount));
            _headCount += take;
            if (_headCount == _head.Length)
            {
                _sniffRaw = false;
                if (ContainerSniffer.Identify(_head) != SniffedContainer.Unknown)
                {
                    Fail(_settings.MismatchedAudioError);
                    return;
                }
            }
        }
        var data = (int)Math.Min(bytes.Length, _dataRemaining);
        _decoder!.Decode(bytes[..data], this);
        _dataRemaining -= data;
    }

    private StreamOutcome FinishCompressed()
    {
        var probe = _spool.Probe();
        if (!probe.Success)
        {
            return Fail(_settings.UndecodableAudioError);
        }
        var names = ContainerExtensions.For(probe.Info.Container);
        var matches = _settings.AudioFormat is { } declared ? names.Contains(declared) : names.Any(_settings.Model.StreamFormats.Contains);
        if (!matches)
        {
            return Fail(_settings.MismatchedAudioError);
        }
        _probedMs = probe.Info.DurationMs;
        _model.FinishUndetermined(_probedMs);
        return StreamOutcome.Success;
    }

    private StreamOutcome Fail(string error)
    {
        var outcome = new StreamOutcome(false, _settings.BadAudioCloseCode, error);
        Failure = outcome;
        return outcome;
    }
}
