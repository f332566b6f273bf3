namespace Tollgate.Audio;

/// <summary>A probe's answer: the audio's facts, or why they could not be established. Never an exception.</summary>
internal readonly record struct ProbeResult(ProbeError Error, AudioInfo Info, string? Detail)
{
    public bool Success => Error == ProbeError.None;

    public static ProbeResult Ok(AudioInfo info) => new(ProbeError.None, info, null);

    public static ProbeResult Fail(ProbeError error, string detail) => new(error, default, detail);
}
