using Tollgate.Audio;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Backends.Reference.Codecs.Mp3;

namespace Tollgate.Backends.Reference.Batch;

/// <summary>
/// The PII/PHI redaction batch answer's <c>audio</c> part, MP3 as the contract says: the upload decoded (the
/// reference silences nothing, having found nothing) and encoded by libmp3lame as mono at the upload's rate, written
/// in chunks to a seekable stream (its Info frame is patched in at the end), so memory stays bounded however long the
/// upload. Formats the reference cannot decode cannot be re-encoded (see <see cref="FileDecoder.CanDecode"/>).
/// </summary>
internal static class RedactedAudio
{
    public const string MediaType = "audio/mpeg";

    /// <summary>Encodes the upload as MP3 into <paramref name="output"/>; false when it has no decoder here or is damaged.</summary>
    /// <exception cref="InvalidOperationException">libmp3lame is not installed (<see cref="Mp3Encoder.Availability"/>).</exception>
    public static bool TryWriteMp3(AudioInfo info, Stream file, Stream output)
    {
        using var sink = new EncodingSink(output);
        if (FileDecoder.Decode(info, file, sink, out _) != FileDecodeResult.Decoded)
        {
            return false;
        }
        sink.Finish();
        return true;
    }

    /// <summary>A delete-on-close temporary file for the encoded audio.</summary>
    public static FileStream CreateSpoolFile()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-redacted");
        Directory.CreateDirectory(directory);
        return new FileStream(Path.Combine(directory, Guid.NewGuid().ToString("N") + ".mp3"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose);
    }

    /// <summary>Rounds to 16-bit exactly as the streaming channel's clips do (<see cref="Streaming.ClipBuffer"/>).</summary>
    public static short ToInt16(float sample) => (short)Math.Clamp(MathF.Round(sample * 32767f), -32768f, 32767f);

    private sealed class EncodingSink(Stream output) : IDecodeSink, IDisposable
    {
        private readonly short[] _block = new short[8192];
        private Mp3Encoder? _encoder;

        public void Start(int sampleRate) => _encoder = new Mp3Encoder(sampleRate);

        public void Write(ReadOnlySpan<float> samples)
        {
            while (!samples.IsEmpty)
            {
                var count = Math.Min(samples.Length, _block.Length);
                for (var i = 0; i < count; i++)
                {
                    _block[i] = ToInt16(samples[i]);
                }
                _encoder!.Encode(_block.AsSpan(0, count), output);
                samples = samples[count..];
            }
        }

        public void Finish()
        {
            _encoder ??= new Mp3Encoder(16_000); // No samples at all: a valid, empty MP3.
            _encoder.Finish(output);
            _encoder.WriteTagFrame(output);
        }

        public void Dispose() => _encoder?.Dispose();
    }
}
