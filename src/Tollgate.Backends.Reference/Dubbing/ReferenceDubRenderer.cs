using System.Buffers.Binary;
using Tollgate.Backends.Reference.Containers;
using Tollgate.Backends.Reference.Pcm;
using Tollgate.Dubbing;

namespace Tollgate.Backends.Reference.Dubbing;

/// <summary>
/// The reference dubbing processor — a documented stand-in, not a dubbing model: it has no translator and no voice
/// synthesizer. It decodes uncompressed input (WAV/RF64, AIFF, AU; other formats fail the dub with
/// <c>unsupported_input</c>), mixes it to mono, normalises its peak to −1 dBFS (a pitch-neutral gain), fades the first
/// and last 10 ms in and out, and writes a 16-bit PCM mono WAV at the input's sample rate: a real audio file with
/// exactly the input's number of samples, so a client can check the whole pipeline end to end.
/// </summary>
internal static class ReferenceDubRenderer
{
    /// <summary>The renderer as the workflow's <see cref="IDubProcessor"/>.</summary>
    public static IDubProcessor Processor { get; } = new ReferenceDubProcessor();

    /// <summary>Peak the output is normalised to: −1 dBFS.</summary>
    public const double TargetPeak = 0.891;

    public const int FadeMs = 10;

    /// <summary>Renders <paramref name="input"/> (seekable; read twice) into <paramref name="output"/>; returns the frames written.</summary>
    public static long Render(Stream input, Stream output, CancellationToken ct = default)
    {
        var peak = new PeakSink();
        var format = Decode(input, peak, ct);
        var frames = peak.Frames;
        if (frames * 2 > uint.MaxValue - (WavFile.HeaderBytes - 8))
        {
            throw new DubRenderException(DubbingCodes.InputTooLong, "The input is too long for a WAV result (over 4 GB of 16-bit samples).");
        }
        var gain = peak.Peak > 0 ? TargetPeak / peak.Peak : 1;
        WriteWavHeader(output, format.SampleRate, frames);
        var writer = new WavWriter(output, gain, frames, Math.Max(1, format.SampleRate * FadeMs / 1000));
        Decode(input, writer, ct);
        writer.Flush();
        if (writer.Written != frames)
        {
            throw new DubRenderException(DubbingCodes.UnprocessableAudio, "The input changed while it was being rendered.");
        }
        return frames;
    }

    /// <summary>Decodes an uncompressed container from its start into <paramref name="sink"/> (as mono); returns its format.</summary>
    public static PcmFormat Decode(Stream input, IMonoSink sink, CancellationToken ct = default)
    {
        input.Seek(0, SeekOrigin.Begin);
        var buffer = new byte[64 * 1024];
        var read = input.ReadAtLeast(buffer, ContainerSniffer.HeadBytes, throwOnEndOfStream: false);
        var reader = HeaderReader.For(ContainerSniffer.Identify(buffer.AsSpan(0, read))) ?? throw Unsupported();
        PcmDecoder? decoder = null;
        long remaining = long.MaxValue;
        while (read > 0 && remaining > 0)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = buffer.AsSpan(0, read);
            if (decoder is null)
            {
                var used = reader.Feed(chunk);
                switch (reader.Status)
                {
                    case HeaderStatus.Invalid:
                        throw new DubRenderException(DubbingCodes.UnprocessableAudio, "The input's header is invalid: " + reader.Problem);
                    case HeaderStatus.NotPcm:
                        throw Unsupported();
                    case HeaderStatus.Ready:
                        decoder = new PcmDecoder(reader.Header!.Format);
                        if (reader.Header.DataBytes is { } dataBytes)
                        {
                            remaining = dataBytes;
                        }
                        break;
                }
                chunk = chunk[used..];
            }
            if (decoder is not null && !chunk.IsEmpty)
            {
                chunk = chunk[..(int)Math.Min(chunk.Length, remaining)];
                remaining -= chunk.Length;
                decoder.Decode(chunk, sink);
            }
            read = input.Read(buffer);
        }
        if (decoder is null || decoder.Frames == 0 || decoder.Format.SampleRate <= 0)
        {
            throw new DubRenderException(DubbingCodes.UnprocessableAudio, "The input has no audio samples.");
        }
        return decoder.Format;
    }

    private static DubRenderException Unsupported() => new(DubbingCodes.UnsupportedInput,
        "The reference dubbing processor renders uncompressed input only (PCM WAV, AIFF or AU); it has no decoder for this format.");

    private static void WriteWavHeader(Stream output, int rate, long frames)
    {
        Span<byte> h = stackalloc byte[WavFile.HeaderBytes];
        WavFile.WriteHeader(h, rate, frames);
        output.Write(h);
    }

    private sealed class PeakSink : IMonoSink
    {
        public double Peak { get; private set; }
        public long Frames { get; private set; }

        public void Write(ReadOnlySpan<float> samples)
        {
            var peak = Peak;
            foreach (var s in samples)
            {
                peak = Math.Max(peak, Math.Abs((double)s));
            }
            Peak = peak;
            Frames += samples.Length;
        }
    }

    /// <summary>Applies the gain and the fades and writes 16-bit little-endian samples.</summary>
    private sealed class WavWriter(Stream output, double gain, long total, int fade) : IMonoSink
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _count;

        public long Written { get; private set; }

        public void Write(ReadOnlySpan<float> samples)
        {
            foreach (var s in samples)
            {
                if (Written >= total)
                {
                    return;
                }
                var edge = Math.Min(Written, total - 1 - Written);
                var envelope = edge >= fade ? 1.0 : edge / (double)fade;
                var value = Math.Clamp(Math.Round(s * gain * envelope * short.MaxValue), short.MinValue, short.MaxValue);
                BinaryPrimitives.WriteInt16LittleEndian(_buffer.AsSpan(_count), (short)value);
                _count += 2;
                Written++;
                if (_count == _buffer.Length)
                {
                    Flush();
                }
            }
        }

        public void Flush()
        {
            output.Write(_buffer, 0, _count);
            _count = 0;
        }
    }

    private sealed class ReferenceDubProcessor : IDubProcessor
    {
        public long Render(Stream input, Stream output, CancellationToken ct) => ReferenceDubRenderer.Render(input, output, ct);

        public double? MeasureLoudness(Stream sample, CancellationToken ct)
        {
            var meter = new LoudnessSink();
            try
            {
                Decode(sample, meter, ct);
            }
            catch (DubRenderException)
            {
                // A compressed sample: its duration is known, its loudness is not measured (no decoder for it here).
                return null;
            }
            return meter.Db;
        }
    }

    private sealed class LoudnessSink : IMonoSink
    {
        private double _sum;
        private long _count;

        public double Db => _count == 0 || _sum <= 0 ? -120 : Math.Round(10 * Math.Log10(_sum / _count), 1);

        public void Write(ReadOnlySpan<float> samples)
        {
            foreach (var s in samples)
            {
                _sum += (double)s * s;
            }
            _count += samples.Length;
        }
    }
}
