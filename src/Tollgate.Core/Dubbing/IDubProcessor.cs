namespace Tollgate.Dubbing;

/// <summary>Why a dub could not be rendered: the <c>errorCode</c>/<c>errorMessage</c> the dub then carries.</summary>
public sealed class DubRenderException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// What turns a dub's input into its result and measures a voice sample: the built-in reference processor
/// (<c>Tollgate.Backends.Reference</c>), or a real dubbing model behind it. The workflow stores and moves state;
/// this does the audio work.
/// </summary>
public interface IDubProcessor
{
    /// <summary>Renders <paramref name="input"/> (seekable) into <paramref name="output"/>; returns the frames written.</summary>
    /// <exception cref="DubRenderException">The input cannot be rendered; the dub fails with its code.</exception>
    long Render(Stream input, Stream output, CancellationToken ct);

    /// <summary>The RMS loudness of a voice sample in dBFS, or null when the processor cannot decode its format.</summary>
    double? MeasureLoudness(Stream sample, CancellationToken ct);
}
