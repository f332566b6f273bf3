using System.Globalization;
using System.Text.Json.Nodes;
using Tollgate.Platform;

namespace Tollgate.Server.Platform;

/// <summary>The job_status answer (the reconstructed contract's <c>JobStatusResponse</c>), built from the stored job alone: no audio is read.</summary>
internal static class PlatformJson
{
    public static string Status(PlatformJobStatus status) => status switch
    {
        PlatformJobStatus.Pending => "pending",
        PlatformJobStatus.Processing => "processing",
        PlatformJobStatus.Completed => "completed",
        _ => "failed",
    };

    private static string Status(PlatformFileStatus status) => Status((PlatformJobStatus)(int)status);

    public static string? Time(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static JsonObject Flags(PlatformFlags flags)
    {
        var o = new JsonObject();
        foreach (var name in PlatformModels.Names(flags))
        {
            o[name] = true;
        }
        return o;
    }

    private static JsonObject? Error(string? code, string? detail) =>
        code is null ? null : new JsonObject { ["code"] = code, ["detail"] = detail };

    public static JsonObject Status(PlatformJob job, int? retryAfterSeconds)
    {
        var files = new JsonArray();
        var texts = new List<string>();
        long? duration = null;
        foreach (var file in job.Files)
        {
            JsonNode? result = file.ResultJson is { } json ? JsonNode.Parse(json) : null;
            if (file.Status == PlatformFileStatus.Completed && result is JsonObject r)
            {
                duration = (duration ?? 0) + (r["duration_ms"]?.GetValue<long>() ?? file.DurationMs);
                if (r["text"]?.GetValue<string>() is { Length: > 0 } text)
                {
                    texts.Add(text);
                }
            }
            files.Add(new JsonObject
            {
                ["index"] = file.Index,
                ["filename"] = file.Filename,
                ["file_extension"] = file.FileExtension,
                ["status"] = Status(file.Status),
                ["duration_ms"] = file.DurationMs,
                ["api_calls_charged"] = file.ApiCallsCharged,
                ["error"] = Error(file.ErrorCode, file.ErrorDetail),
                ["result"] = result,
            });
        }
        var completed = job.Status == PlatformJobStatus.Completed;
        return new JsonObject
        {
            ["job_id"] = job.Id,
            ["status"] = Status(job.Status),
            ["submission_type"] = job.Submission == PlatformSubmission.Realtime ? "realtime_websocket" : "file",
            ["flags"] = Flags(job.Flags),
            ["api_calls_charged"] = job.Files.Sum(f => f.ApiCallsCharged),
            ["transcript"] = completed ? string.Join(" ", texts) : null,
            ["duration_ms"] = completed ? duration ?? 0 : null,
            ["files"] = files,
            ["created_at"] = Time(job.CreatedAt),
            ["updated_at"] = Time(job.UpdatedAt),
            ["finalized_at"] = Time(job.FinalizedAt),
            ["completed_at"] = Time(job.CompletedAt),
            ["expires_at"] = job.Status == PlatformJobStatus.Pending ? Time(job.ExpiresAt) : null,
            ["retry_after_seconds"] = retryAfterSeconds,
            ["error"] = Error(job.ErrorCode, job.ErrorDetail),
        };
    }
}
