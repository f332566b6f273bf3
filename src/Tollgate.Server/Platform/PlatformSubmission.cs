using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Platform;
using Tollgate.Server.Http;

namespace Tollgate.Server.Platform;

/// <summary>The machine codes of the Platform API's own refusals (the shared ones are in <see cref="ErrorCodes"/>).</summary>
internal static class PlatformCodes
{
    public const string InvalidBase64 = "invalid_base64";
    public const string EmptyAudio = "empty_audio";
    public const string UndecodableAudio = "undecodable_audio";
    public const string MissingAudio = "missing_audio";
    public const string FileTooLarge = "file_too_large";
    public const string JobNotFound = "job_not_found";
    public const string JobNotOpen = "job_not_open";
    public const string FlagsMismatch = "flags_mismatch";
    public const string InvalidToken = "invalid_realtime_token";
}

/// <summary>
/// A <c>POST /api_service</c> request once its body is read (JSON or multipart alike): the audio in a delete-on-close
/// spool file, and the other fields checked for their types. Which pattern it is follows from them: realtime
/// (<c>submission_type</c>, no audio), a new file job (audio, no <c>job_id</c>), or a further file (audio and <c>job_id</c>).
/// </summary>
internal sealed class PlatformSubmissionForm : IAsyncDisposable
{
    public static readonly string[] Extensions = ["mp3", "wav", "opus"];

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        PlatformJsonBody.AudioField, "file_extension", "filename", "flags", "job_id", "finalize_job", "submission_type",
    };

    public FileStream? Audio { get; init; }
    public long AudioLength { get; init; }
    public bool AudioGiven { get; init; }
    public string? FileExtension { get; private set; }
    public string? Filename { get; private set; }

    /// <summary>The flags sent, or null when the request sent none.</summary>
    public PlatformFlags? Flags { get; private set; }
    public string? JobId { get; private set; }
    public bool? Finalize { get; private set; }
    public string? SubmissionType { get; private set; }

    public ValueTask DisposeAsync() => Audio?.DisposeAsync() ?? ValueTask.CompletedTask;

    private static PlatformRefusal Shape(string detail) => new(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed, detail);

    /// <summary>Takes the JSON body's fields (all but the audio); the first problem, if any.</summary>
    public PlatformRefusal? TakeJson(Dictionary<string, JsonNode?> fields)
    {
        foreach (var (name, value) in fields)
        {
            if (!Known.Contains(name))
            {
                return Shape($"Unknown field '{name}'. The fields are audio_base64, file_extension, filename, flags, job_id, finalize_job and submission_type.");
            }
            var refusal = name switch
            {
                "file_extension" => Text(name, value, v => FileExtension = v),
                "filename" => Text(name, value, v => Filename = v, nullable: true),
                "job_id" => Text(name, value, v => JobId = v),
                "submission_type" => Text(name, value, v => SubmissionType = v),
                "finalize_job" => Bool(value),
                "flags" => TakeFlags(value),
                _ => value is null ? null : Shape("audio_base64 must be a string."),
            };
            if (refusal is not null)
            {
                return refusal;
            }
        }
        return null;
    }

    /// <summary>Takes a multipart body's form fields (the audio is the <c>file</c> part); the first problem, if any.</summary>
    public PlatformRefusal? TakeForm(IReadOnlyDictionary<string, string> fields, string? partFileName)
    {
        foreach (var (name, value) in fields)
        {
            if (!Known.Contains(name) || name == PlatformJsonBody.AudioField)
            {
                return Shape($"Unknown form field '{name}'. The fields are file, file_extension, filename, flags, job_id, finalize_job and submission_type.");
            }
            switch (name)
            {
                case "file_extension":
                    FileExtension = value;
                    break;
                case "filename":
                    Filename = value;
                    break;
                case "job_id":
                    JobId = value;
                    break;
                case "submission_type":
                    SubmissionType = value;
                    break;
                case "finalize_job":
                    if (value.Trim() is not ("true" or "false"))
                    {
                        return Shape("finalize_job must be true or false.");
                    }
                    Finalize = value.Trim() == "true";
                    break;
                case "flags":
                    JsonNode? parsed;
                    try
                    {
                        parsed = JsonNode.Parse(value);
                    }
                    catch (JsonException)
                    {
                        return Shape("flags must be a JSON object such as {\"emotion_annotation\": true}.");
                    }
                    if (TakeFlags(parsed) is { } bad)
                    {
                        return bad;
                    }
                    break;
            }
        }
        if (FileExtension is null && AudioGiven && Path.GetExtension(partFileName ?? "") is { Length: > 1 } ext)
        {
            FileExtension = ext[1..];
        }
        Filename ??= AudioGiven ? partFileName : null;
        return null;
    }

    private static PlatformRefusal? Text(string name, JsonNode? value, Action<string> set, bool nullable = false)
    {
        if (value is null && nullable)
        {
            return null;
        }
        if (value is JsonValue v && v.TryGetValue<string>(out var s))
        {
            set(s);
            return null;
        }
        return Shape($"{name} must be a string.");
    }

    private PlatformRefusal? Bool(JsonNode? value)
    {
        if (value is JsonValue v && v.TryGetValue<bool>(out var b))
        {
            Finalize = b;
            return null;
        }
        return Shape("finalize_job must be true or false.");
    }

    private PlatformRefusal? TakeFlags(JsonNode? value)
    {
        if (value is not JsonObject flags)
        {
            return Shape("flags must be an object such as {\"emotion_annotation\": true}.");
        }
        var result = PlatformFlags.None;
        foreach (var (name, node) in flags)
        {
            if (!PlatformModels.TryParseFlag(name, out var analysis))
            {
                return Shape($"Unknown flag '{name}'. The flags are {string.Join(", ", PlatformModels.Analyses.Select(a => a.Name))}.");
            }
            if (node is not JsonValue v || !v.TryGetValue<bool>(out var on))
            {
                return Shape($"flags.{name} must be true or false.");
            }
            if (on)
            {
                result |= analysis.Flag;
            }
        }
        Flags = result;
        return null;
    }

    /// <summary><c>file_extension</c> as this server takes it: lower case, an optional leading dot dropped; null when it is not mp3, wav or opus.</summary>
    public string? NormalizedExtension =>
        FileExtension?.Trim().TrimStart('.').ToLowerInvariant() is { } e && Extensions.Contains(e) ? e : null;
}

/// <summary>A Platform refusal before it is written: status, code and sentence.</summary>
internal sealed record PlatformRefusal(int Status, string Code, string Detail)
{
    public Task WriteAsync(HttpContext context) => ApiError.WriteAsync(context, Status, Code, Detail);
}
