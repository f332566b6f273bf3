using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tollgate.Client.Platform;

/// <summary>
/// The optional analyses of a Platform API job; each costs one more API call. All off by default (plain transcription).
/// </summary>
public sealed record PlatformFlags
{
    /// <summary><c>emotion_annotation</c>: an emotion label on each utterance. Default off.</summary>
    public bool EmotionAnnotation { get; init; }

    /// <summary><c>demographics</c>: per-speaker estimates. Default off.</summary>
    public bool Demographics { get; init; }

    /// <summary><c>deepfake_detection</c> (Tollgate's name for the documented feature): a synthetic-speech score. Default off.</summary>
    public bool DeepfakeDetection { get; init; }

    internal string ToJson()
    {
        var names = new List<string>();
        if (EmotionAnnotation) names.Add("\"emotion_annotation\":true");
        if (Demographics) names.Add("\"demographics\":true");
        if (DeepfakeDetection) names.Add("\"deepfake_detection\":true");
        return "{" + string.Join(",", names) + "}";
    }
}

/// <summary>The answer to an upload (<c>POST /api_service</c> with audio).</summary>
/// <param name="JobId">The job, to poll (<c>job_status/{job_id}</c>) or to add files to.</param>
/// <param name="Status"><c>pending</c> (a multi-file job still open) or <c>processing</c>.</param>
/// <param name="ApiCallsCharged">API calls this file costs: 1 for transcription plus 1 per analysis.</param>
/// <param name="FilesReceived">Files the job holds so far.</param>
/// <param name="FileIndex">This file's index in the job (from 0).</param>
/// <param name="EstimatedProcessingTime">A human-readable estimate (<c>"4-8 seconds"</c>) once the job is processing.</param>
/// <param name="ExpiresAt">When an open multi-file job expires unless finalized.</param>
public sealed record PlatformSubmission(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("api_calls_charged")] int ApiCallsCharged,
    [property: JsonPropertyName("files_received")] int? FilesReceived,
    [property: JsonPropertyName("file_index")] int? FileIndex,
    [property: JsonPropertyName("estimated_processing_time")] string? EstimatedProcessingTime,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt);

/// <summary>A realtime job's answer: stream to <see cref="RealtimeUrl"/> (Pipecat's WebSocket transport, or with the Models API query parameters plain PCM).</summary>
/// <param name="JobId">The job, polled like any other once the stream ends.</param>
/// <param name="Status"><c>pending</c> until the stream ends.</param>
/// <param name="RealtimeUrl">A <c>ws(s)://</c> URL with a single-use token; never the API key.</param>
/// <param name="RealtimeUrlExpiresInSeconds">How long the URL's token stays valid (Tollgate's default 60 s).</param>
public sealed record PlatformRealtimeSession(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("realtime_url")] Uri RealtimeUrl,
    [property: JsonPropertyName("realtime_url_expires_in_seconds")] int? RealtimeUrlExpiresInSeconds);

/// <summary>An error inside a job or file: <c>{"code", "detail"}</c>.</summary>
/// <param name="Code">The machine code (<c>job_expired</c>, <c>unprocessable_audio</c>…).</param>
/// <param name="Detail">The explanation.</param>
public sealed record PlatformError(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("detail")] string? Detail);

/// <summary>One file of a job in a status answer.</summary>
/// <param name="Index">Its index in the job.</param>
/// <param name="Filename">The name it was sent with.</param>
/// <param name="FileExtension"><c>mp3</c>, <c>wav</c> or <c>opus</c>.</param>
/// <param name="Status"><c>pending</c>, <c>processing</c>, <c>completed</c> or <c>failed</c>.</param>
/// <param name="DurationMs">Its audio's duration.</param>
/// <param name="ApiCallsCharged">What it cost.</param>
/// <param name="Error">Why it failed, or null.</param>
/// <param name="Result">Its result (the Models API STT shape with the analyses asked for), or null until completed.</param>
public sealed record PlatformJobFile(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("filename")] string? Filename,
    [property: JsonPropertyName("file_extension")] string? FileExtension,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("duration_ms")] long? DurationMs,
    [property: JsonPropertyName("api_calls_charged")] int ApiCallsCharged,
    [property: JsonPropertyName("error")] PlatformError? Error,
    [property: JsonPropertyName("result")] JsonElement? Result);

/// <summary>A job's status (<c>GET /api_service/job_status/{job_id}</c>).</summary>
/// <param name="JobId">The job.</param>
/// <param name="Status"><c>pending</c>, <c>processing</c>, <c>completed</c> or <c>failed</c> (an expired job is failed with <c>error.code</c> <c>job_expired</c>).</param>
/// <param name="SubmissionType"><c>file</c> or <c>realtime_websocket</c>.</param>
/// <param name="ApiCallsCharged">The job's total.</param>
/// <param name="Transcript">The whole job's text once completed.</param>
/// <param name="DurationMs">The job's audio once completed.</param>
/// <param name="Files">Its files.</param>
/// <param name="RetryAfterSeconds">The server's hint for the next poll (non-final answers only).</param>
/// <param name="Error">Why the job failed, or null.</param>
public sealed record PlatformJobStatus(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("submission_type")] string? SubmissionType,
    [property: JsonPropertyName("api_calls_charged")] int ApiCallsCharged,
    [property: JsonPropertyName("transcript")] string? Transcript,
    [property: JsonPropertyName("duration_ms")] long? DurationMs,
    [property: JsonPropertyName("files")] IReadOnlyList<PlatformJobFile> Files,
    [property: JsonPropertyName("retry_after_seconds")] int? RetryAfterSeconds,
    [property: JsonPropertyName("error")] PlatformError? Error)
{
    /// <summary>Whether the job has finished (<c>completed</c> or <c>failed</c>): polling it again changes nothing.</summary>
    public bool IsFinal => Status is "completed" or "failed";
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PlatformSubmission))]
[JsonSerializable(typeof(PlatformRealtimeSession))]
[JsonSerializable(typeof(PlatformJobStatus))]
internal sealed partial class PlatformJsonContext : JsonSerializerContext;
