using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Backends.Reference.Containers;

/// <summary>What a WAV/AIFF/AU header says about the samples after it.</summary>
/// <param name="Format">The sample layout, rate and channels.</param>
/// <param name="DataBytes">Bytes of sample data the header announces, or null when it does not say (a streamed header).</param>
internal sealed record PcmHeader(PcmFormat Format, long? DataBytes);

/// <summary>Where an incremental header read stands.</summary>
internal enum HeaderStatus
{
    /// <summary>More bytes are needed.</summary>
    NeedMore,
    /// <summary>The header is complete: the bytes after it are samples.</summary>
    Ready,
    /// <summary>The bytes are not a valid header of this container.</summary>
    Invalid,
    /// <summary>A valid header whose samples are compressed (ADPCM, GSM, ...): no PCM to decode.</summary>
    NotPcm,
}
