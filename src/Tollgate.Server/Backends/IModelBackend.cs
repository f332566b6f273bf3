using System.Net.WebSockets;
using Tollgate.Audio;
using Tollgate.Backends.Reference;
using Tollgate.Metering;
using Tollgate.Models;
using Tollgate.Platform;
using Tollgate.Server.Models;

namespace Tollgate.Server.Backends;

/// <summary>A batch request that passed admission and validation: its model, spooled file and probed audio.</summary>
internal sealed record BatchCall(ModelDescriptor Model, BatchUpload Upload, AudioInfo Audio);

/// <summary>
/// A batch request decided from its beginning (<see cref="StreamedUpload"/>): the body goes on as the client sent it;
/// <see cref="Audio"/> is what its beginning says, the duration reserved.
/// </summary>
internal sealed record ForwardedBatchCall(ModelDescriptor Model, StreamedUpload Upload, AudioInfo Audio);

/// <summary>
/// A streaming connection that passed admission: its model, validated settings, the raw query (without the caller's
/// key) and the meter it reports the audio it measures to.
/// </summary>
internal sealed record StreamCall(ModelDescriptor Model, StreamSettings Settings, IReadOnlyDictionary<string, string> Query, IAudioMeter Meter);

/// <summary>How a batch call ended, for metering: a file is charged <see cref="MeasuredMs"/> only when it succeeded.</summary>
internal readonly record struct BatchOutcome(bool Succeeded, long MeasuredMs)
{
    public static BatchOutcome Failed => default;
}

/// <summary>How a stream ended. A stream is charged the audio its meter accepted, however it ended.</summary>
internal enum StreamEnd
{
    /// <summary>The backend finished the stream and closed it.</summary>
    Completed,

    /// <summary>The backend refused or failed the stream and closed it with its own error.</summary>
    Failed,

    /// <summary>The client (or the relay) went away.</summary>
    Gone,

    /// <summary>The meter said the month's audio ran out: the caller sends the quota error and closes 4029.</summary>
    QuotaExhausted,
}

/// <summary>
/// Serves a model: the built-in reference backend, or an upstream the configuration names. A backend answers and
/// reports what it measured; it never reserves, charges or releases anything (the request's <see cref="MeteredCall"/> does).
/// </summary>
internal interface IModelBackend
{
    /// <summary>Answers a batch call by writing the response itself (so upstream answers stream straight back).</summary>
    Task<BatchOutcome> HandleBatchAsync(BatchCall call, HttpContext context);

    /// <summary>
    /// Analyses a stored file with no HTTP exchange of its own (the Platform API's jobs): the model's 200 body as the
    /// Models API would answer it, or why there is none. Like <see cref="HandleBatchAsync"/>, it charges nothing.
    /// </summary>
    Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken ct);

    /// <summary>Serves an accepted WebSocket until the stream ends, fails, runs out of quota or the client goes away.</summary>
    Task<StreamEnd> HandleStreamAsync(StreamCall call, WebSocket socket, CancellationToken ct);
}

/// <summary>
/// A backend that forwards the client's upload as it was sent (an upstream): the batch endpoint hands it the body after
/// probing only the beginning, when that establishes the duration, instead of spooling the file first.
/// </summary>
internal interface IForwardingBackend
{
    /// <summary>Forwards the request with its body (<see cref="StreamedUpload.Body"/>) and writes the answer; charges nothing.</summary>
    Task<BatchOutcome> ForwardAsync(ForwardedBatchCall call, HttpContext context);
}
