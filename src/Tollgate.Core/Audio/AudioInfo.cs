namespace Tollgate.Audio;

/// <summary>The container (or raw stream layout) a probe recognised from the bytes themselves.</summary>
internal enum AudioContainer
{
    Raw,
    Wav,
    Aiff,
    Au,
    Flac,
    Mp3,
    Ogg,
    Mp4,
    Matroska,
    Adts,
    Amr,
    Asf,
}

/// <summary>What a probe established about a file: the container, the codec inside it, and the real duration.</summary>
/// <param name="Container">Container recognised from the content.</param>
/// <param name="Codec">Short codec name, e.g. "pcm_s16le", "mp3", "vorbis", "opus", "aac", "flac", "amr_nb".</param>
/// <param name="DurationMs">Duration in whole milliseconds (rounded down).</param>
/// <param name="SampleRate">Samples per second per channel; 0 when the container does not say.</param>
/// <param name="Channels">Channel count; 0 when the container does not say.</param>
internal readonly record struct AudioInfo(AudioContainer Container, string Codec, long DurationMs, int SampleRate, int Channels);

/// <summary>Why a probe could not establish a duration.</summary>
internal enum ProbeError
{
    None,
    /// <summary>Zero bytes.</summary>
    Empty,
    /// <summary>The bytes are not any format the probes know.</summary>
    UnsupportedFormat,
    /// <summary>A known format, but its headers are inconsistent, truncated or hostile.</summary>
    Corrupt,
}
