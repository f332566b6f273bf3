using Tollgate.Audio;

namespace Tollgate.Backends.Reference.Streaming;

/// <summary>
/// Compressed stream bytes kept on disk until the end of the stream (a delete-on-close temporary file, never
/// memory), then probed for their duration.
/// </summary>
internal sealed class AudioSpool : IDisposable
{
    /// <summary>Largest compressed stream accepted: the batch endpoints' file limit.</summary>
    public const long MaxBytes = 100L * 1024 * 1024;

    private FileStream? _file;

    public long Length => _file?.Length ?? 0;

    /// <exception cref="InvalidDataException">The stream passed <see cref="MaxBytes"/>.</exception>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }
        _file ??= Create();
        if (_file.Length + bytes.Length > MaxBytes)
        {
            throw new InvalidDataException(
                $"A compressed audio stream is limited to {MaxBytes / (1024 * 1024)} MB: stream raw PCM (e.g. audio_format=s16le) for longer audio.");
        }
        _file.Write(bytes);
    }

    public ProbeResult Probe()
    {
        if (_file is null)
        {
            return ProbeResult.Fail(ProbeError.Empty, "No audio was received.");
        }
        _file.Flush();
        _file.Seek(0, SeekOrigin.Begin);
        return AudioProbe.Probe(_file);
    }

    public void Dispose() => _file?.Dispose();

    private static FileStream Create()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-streams");
        Directory.CreateDirectory(directory);
        return new FileStream(Path.Combine(directory, "stream-" + Guid.NewGuid().ToString("N") + ".part"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose);
    }
}
