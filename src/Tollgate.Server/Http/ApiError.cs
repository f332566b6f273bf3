using System.Text.Json.Serialization;
using Tollgate.Server.Observability;

namespace Tollgate.Server.Http;

/// <summary>Every error body: <c>{"detail": "&lt;human text&gt;", "code": "&lt;machine code&gt;"}</c> (detail is the contracts' ErrorResponse).</summary>
internal sealed record ErrorBody(
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("code")] string Code);

/// <summary>The machine codes of <see cref="ErrorBody.Code"/>.</summary>
internal static class ErrorCodes
{
    public const string MissingApiKey = "missing_api_key";
    public const string MalformedApiKey = "malformed_api_key";
    public const string UnknownApiKey = "unknown_api_key";
    public const string RevokedApiKey = "revoked_api_key";
    public const string ExpiredApiKey = "expired_api_key";
    public const string UserDisabled = "user_disabled";
    public const string KeyNotRotatable = "key_not_rotatable";
    public const string Forbidden = "forbidden";
    public const string AccountMismatch = "account_mismatch";
    public const string ModelNotPermitted = "model_not_permitted";
    public const string QuotaExceeded = "quota_exceeded";
    public const string ConcurrencyLimit = "concurrency_limit";
    public const string RateLimited = "rate_limited";
    public const string AuthThrottled = "auth_throttled";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UploadTimeout = "upload_timeout";
    public const string IdleTimeout = "idle_timeout";
    public const string ServerShuttingDown = "server_shutting_down";
    public const string EmptyFile = "empty_file";
    public const string UnsupportedFormat = "unsupported_format";
    public const string UnprocessableAudio = "unprocessable_audio";
    public const string Mp3EncoderUnavailable = "mp3_encoder_unavailable";
    public const string AudioTooShort = "audio_too_short";
    public const string MissingField = "missing_field";
    public const string InvalidRequest = "invalid_request";
    public const string InvalidConfiguration = "invalid_configuration";
    public const string InvalidParameter = "invalid_parameter";
    public const string InvalidJson = "invalid_json";
    public const string ValidationFailed = "validation_failed";
    public const string NotFound = "not_found";
    public const string InvalidAdminToken = "invalid_admin_token";
    public const string UpstreamUnavailable = "upstream_unavailable";
    public const string UpstreamTimeout = "upstream_timeout";
    public const string UpstreamError = "upstream_error";
    public const string InternalError = "internal_error";
    public const string StoreUnavailable = "store_unavailable";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string WrongModelKind = "wrong_model_kind";
    public const string UnsupportedMediaType = "unsupported_media_type";
}

internal static class ApiError
{
    public static IResult Result(int status, string code, string detail) =>
        new CodedResult(code, TypedResults.Json(new ErrorBody(detail, code), statusCode: status));

    public static Task WriteAsync(HttpContext context, int status, string code, string detail)
    {
        RequestLogEntry.NoteCode(context, code);
        // An error answer replaces whatever part of an answer is held unsent (e.g. an upstream's answer that broke off
        // while the settlement gate held it): the client gets the error alone, never a fragment followed by it.
        Tollgate.Server.Admission.SettlementGate.DropUnsentAnswer(context);
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorBody(detail, code), ServerJsonContext.Wire.ErrorBody);
    }
}

/// <summary>An error answer that tells the request log its <c>code</c> when it is written.</summary>
internal sealed class CodedResult(string code, Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorBody> inner)
    : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ErrorBody>, IContentTypeHttpResult
{
    public int? StatusCode => inner.StatusCode;

    public object? Value => inner.Value;

    ErrorBody? IValueHttpResult<ErrorBody>.Value => inner.Value;

    public string? ContentType => inner.ContentType;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        RequestLogEntry.NoteCode(httpContext, code);
        return inner.ExecuteAsync(httpContext);
    }
}
