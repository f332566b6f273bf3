using System.Net.WebSockets;
using Tollgate.Audio;
using Tollgate.Models;
using Tollgate.Backends.Reference;
using Tollgate.Server.Models;

namespace Tollgate.Server.Backends;

/// <summary>A batch request that passed admission and validation: its model, spooled file and probed audio.</summary>
internal sealed record BatchCall(ModelDescriptor Model, BatchUpload Upload, AudioInfo Audio);

/// <summary>
/// A streaming connection that passed admission: its model, validated settings, the raw query (without the caller's
/// key) and the meter its audio must pass through as it arrives.
/// </summary>
internal sealed record StreamCall(ModelDescriptor Model, StreamSettings Settings, IReadOnlyDictionary<string, string> Query, StreamMeter Meter);

/// <summary>
/// How a backend's work ended, for metering: a batch is charged only when it succeeded; a stream is charged
/// <see cref="ChargedMs"/>, the audio it accepted, however it ended.
/// </summary>
internal readonly record struct BackendOutcome(bool Succeeded, long ChargedMs);

/// <summary>Serves a model: the built-in reference backend, or an upstream the configuration names.</summary>
internal interface IModelBackend
{
    /// <summary>Answers a batch call by writing the response itself (so upstream answers stream straight back).</summary>
    Task<BackendOutcome> HandleBatchAsync(BatchCall call, HttpContext context);

    /// <summary>Serves an accepted WebSocket until the stream ends, fails or the client goes away.</summary>
    Task<BackendOutcome> HandleStreamAsync(StreamCall call, WebSocket socket, CancellationToken ct);
}
