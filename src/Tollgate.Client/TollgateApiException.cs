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
/// A monthly quota is used up: the Models API's 403 <c>quota_exceeded</c> (audio hours of the (organization, model)
/// pool, or this file would exceed them) or the Dubbing API's 402 <c>insufficient_credits</c>. Never retried: waiting
/// does not help before <see cref="ResetsAt"/> (the next calendar month, UTC).
/// </summary>
public sealed class TollgateQuotaExceededException : TollgateApiException
{
    /// <summary>The machine code that marks a quota refusal.</summary>
    public const string QuotaExceededCode = "quota_exceeded";

    /// <summary>The Dubbing API's code for a generate that needs more credits than the organization has left.</summary>
    public const string InsufficientCreditsCode = "insufficient_credits";

    /// <summary>Creates the exception for one quota refusal, without a reset time.</summary>
    /// <param name="detail">The body's <c>detail</c>.</param>
    public TollgateQuotaExceededException(string detail)
        : this(HttpStatusCode.Forbidden, QuotaExceededCode, detail, null)
    {
    }

    /// <summary>Creates the exception for one quota refusal.</summary>
    /// <param name="statusCode">403 (Models and Platform API) or 402 (Dubbing API).</param>
    /// <param name="code"><see cref="QuotaExceededCode"/> or <see cref="InsufficientCreditsCode"/>.</param>
    /// <param name="detail">The body's <c>detail</c>.</param>
    /// <param name="resetsAt">When the quota resets; <see langword="null"/> when not known.</param>
    public TollgateQuotaExceededException(HttpStatusCode statusCode, string code, string detail, DateTimeOffset? resetsAt)
        : base(statusCode, code, detail)
    {
        ResetsAt = resetsAt;
    }

    /// <summary>
    /// When the quota resets: the time the server's <c>detail</c> names (<c>it resets at 2026-01-01T00:00:00Z</c>), else
    /// the first instant of the calendar month (UTC) after the answer's <c>Date</c>; <see langword="null"/> if neither is known.
    /// </summary>
    public DateTimeOffset? ResetsAt { get; }
}

/// <summary>
/// The credential was refused: missing, malformed, unknown or revoked key (<c>missing_api_key</c>,
/// <c>malformed_api_key</c>, <c>unknown_api_key</c>, <c>revoked_api_key</c>; 401, or 403 on the synthetic-voice-detection
/// batch endpoint), a Platform API key of another account, or too many failed attempts from this address
/// (429 <c>auth_throttled</c>). Raised at once and never retried: only a different key helps.
/// </summary>
public sealed class TollgateAuthenticationException : TollgateApiException
{
    /// <summary>Creates the exception for one refused credential.</summary>
    /// <param name="statusCode">The HTTP status (401, 403 or 429).</param>
    /// <param name="code">The body's <c>code</c>, if any.</param>
    /// <param name="detail">The body's <c>detail</c>.</param>
    public TollgateAuthenticationException(HttpStatusCode statusCode, string? code, string detail)
        : base(statusCode, code, detail)
    {
    }
}
