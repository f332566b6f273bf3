using System.Text.Json.Nodes;
using Tollgate.Audio;

namespace Tollgate.Platform;

/// <summary>One model's analysis of one stored file: what a Models API batch call of that model would be sent.</summary>
internal sealed record AnalysisRequest(string Model, Stream Audio, AudioInfo Info, string? FileName, IReadOnlyDictionary<string, string> Fields);

/// <summary>A model's answer: its 200 body, or why there is none (and whether trying again later may help).</summary>
internal sealed record AnalysisResult(JsonObject? Body, string? ErrorCode = null, string? ErrorDetail = null, bool Transient = false)
{
    public bool Succeeded => Body is not null;
}

/// <summary>
/// How Platform jobs reach the models: through the same backend each model has on the Models API (the reference
/// backend, or the upstream configured for it), without an HTTP request of their own.
/// </summary>
internal interface IPlatformAnalyzer
{
    Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken ct);
}

/// <summary>A seam for tests: a worker awaits it before it processes a job's files, so a test can hold a job mid-way (and stop the server) without timing anything.</summary>
internal interface IPlatformProcessingGate
{
    ValueTask WaitAsync(PlatformJob job, CancellationToken ct);
}

/// <summary>The default gate: never waits.</summary>
internal sealed class OpenPlatformProcessingGate : IPlatformProcessingGate
{
    public ValueTask WaitAsync(PlatformJob job, CancellationToken ct) => ValueTask.CompletedTask;
}
