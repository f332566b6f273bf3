using System.Net;

namespace Tollgate.Client;

/// <summary>
/// Tollgate answered with an error status. Tollgate's error bodies are <c>{"detail": "...", "code": "..."}</c>;
/// <see cref="Detail"/> and <see cref="Code"/> carry them.
/// </summary>
public class TollgateApiException : Exception
{
    /// <summary>Creates the exception for one error answer.</summary>
    /// <param name="statusCode">The HTTP status of the answer.</param>
    /// <param name="code">The machine code from the body's <c>code</c>, or <see langword="null"/> when the body had none.</param>
    /// <param name="detail">The human text from the body's <c>detail</c> (or, failing that, the body or the status line).</param>
    public TollgateApiException(HttpStatusCode statusCode, string? code, string detail)
        : base(code is null ? $"{(int)statusCode} {statusCode}: {detail}" : $"{(int)statusCode} {code}: {detail}")
    {
        StatusCode = statusCode;
        Code = code;
        Detail = detail;
    }

    /// <summary>The HTTP status of the answer (400, 401, 403, 404, 409, 413, 422, 429...).</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>
    /// The machine code (<c>not_found</c>, <c>validation_failed</c>, <c>quota_exceeded</c>...), or <see langword="null"/>
    /// when the body was not Tollgate's error shape: for example a 404 for a path this server does not serve at all.
    /// </summary>
    public string? Code { get; }

    /// <summary>The human-readable explanation; never empty.</summary>
    public string Detail { get; }
}

/// <summary>
/// A 429: the concurrency limit of the (organization, model) pool or a request-rate window is full. Worth retrying
/// after <see cref="RetryAfter"/>.
/// </summary>
public sealed class TollgateRateLimitedException : TollgateApiException
{
    /// <summary>Creates the exception for one 429 answer.</summary>
    /// <param name="code">The body's <c>code</c> (<c>concurrency_limit</c>, <c>rate_limited</c>), if any.</param>
    /// <param name="detail">The body's <c>detail</c>.</param>
    /// <param name="retryAfter">The <c>Retry-After</c> header as a duration; <see langword="null"/> when absent.</param>
    public TollgateRateLimitedException(string? code, string detail, TimeSpan? retryAfter)
        : base(HttpStatusCode.TooManyRequests, code, detail)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>How long the server asks to wait before trying again (its <c>Retry-After</c>); <see langword="null"/> when it did not say.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>
/// A 403 with code <c>quota_exceeded</c>: the monthly audio-hour quota of the (organization, model) pool is used up,
/// or this file would exceed it. Retrying does not help before the quota resets (the next calendar month, UTC).
/// </summary>
public sealed class TollgateQuotaExceededException : TollgateApiException
{
    /// <summary>The machine code that marks a quota refusal.</summary>
    public const string QuotaExceededCode = "quota_exceeded";

    /// <summary>Creates the exception for one quota refusal.</summary>
    /// <param name="detail">The body's <c>detail</c>.</param>
    public TollgateQuotaExceededException(string detail)
        : base(HttpStatusCode.Forbidden, QuotaExceededCode, detail)
    {
    }
}
