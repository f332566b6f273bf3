using System.Text.Json.Nodes;

namespace Tollgate.Backends.Reference;

/// <summary>One message for the client: a JSON text message, or (when <see cref="Json"/> is null) a binary one.</summary>
internal readonly record struct StreamEvent(JsonObject? Json, ReadOnlyMemory<byte> Binary);

/// <summary>How a stream ended: success, or the contract's error text and close code.</summary>
/// <param name="Succeeded">The final messages (ending with <c>done</c>) were produced.</param>
/// <param name="CloseCode">On failure: 4002 on the channels whose contracts use it for bad audio, else 1003.</param>
/// <param name="Error">On failure: the contract's text, e.g. "Invalid input audio".</param>
internal readonly record struct StreamOutcome(bool Succeeded, int CloseCode, string? Error)
{
    public static StreamOutcome Success { get; } = new(true, 1000, null);
}

/// <summary>
/// Analyses one streaming connection's audio as it arrives. <see cref="Append"/> adds the messages ready so far
/// (e.g. an utterance once its trailing silence has been heard); <see cref="Complete"/> adds the rest and the final
/// <c>done</c>. <see cref="DurationMs"/> is the audio accepted so far, exact after every call for raw, WAV/AIFF/AU
/// (whole frames only) and decoded compressed audio (priming removed), so usage can be metered mid-stream.
/// </summary>
internal interface IStreamAnalyzer : IDisposable
{
    /// <summary>
    /// Milliseconds of audio accepted so far (rounded down), never decreasing. Compressed audio with no decoder here:
    /// 0 until <see cref="Complete"/> has probed it.
    /// </summary>
    long DurationMs { get; }

    /// <summary>Set as soon as the audio is known to be unusable (an invalid header, container bytes on a raw channel); nothing more is analysed.</summary>
    StreamOutcome? Failure { get; }

    void Append(ReadOnlySpan<byte> audio, List<StreamEvent> events);

    StreamOutcome Complete(List<StreamEvent> events);
}
