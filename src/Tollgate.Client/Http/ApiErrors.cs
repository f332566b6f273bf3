using System.Net;
using System.Text.Json;

namespace Tollgate.Client.Http;

/// <summary>Turns an error answer into the matching typed exception.</summary>
internal static class ApiErrors
{
    /// <summary>Longest body quoted in <see cref="TollgateApiException.Detail"/> when it is not Tollgate's error shape.</summary>
    private const int MaxQuotedBody = 500;

    public static async Task ThrowIfErrorAsync(HttpResponseMessage response, TimeProvider time, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ReadAsync(response, time, ct).ConfigureAwait(false);
        }
    }

    public static async Task<TollgateApiException> ReadAsync(HttpResponseMessage response, TimeProvider time, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var (code, detail) = Parse(body);
        detail ??= body.Trim() is { Length: > 0 } text
            ? (text.Length > MaxQuotedBody ? text[..MaxQuotedBody] + "…" : text)
            : $"{(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}";

        return response.StatusCode switch
        {
            _ when IsCredentialRefusal(response.StatusCode, code) => new TollgateAuthenticationException(response.StatusCode, code, detail),
            HttpStatusCode.TooManyRequests => new TollgateRateLimitedException(code, detail, RetryAfter(response, time)),
            HttpStatusCode.Forbidden when code == TollgateQuotaExceededException.QuotaExceededCode =>
                new TollgateQuotaExceededException(response.StatusCode, code, detail, QuotaReset(detail, response, time)),
            HttpStatusCode.PaymentRequired when code == TollgateQuotaExceededException.InsufficientCreditsCode =>
                new TollgateQuotaExceededException(response.StatusCode, code, detail, QuotaReset(detail, response, time)),
            _ => new TollgateApiException(response.StatusCode, code, detail),
        };
    }

    /// <summary>The codes of a refused API key (whatever the status: 401, 403 on one endpoint, 429 when throttled).</summary>
    internal static bool IsCredentialRefusal(HttpStatusCode status, string? code) =>
        code is "missing_api_key" or "malformed_api_key" or "unknown_api_key" or "revoked_api_key" or "account_mismatch" or "auth_throttled";

    /// <summary>Whether an answer is a refusal no retry can turn around: a used-up quota or a refused credential.</summary>
    internal static bool IsFinal(HttpStatusCode status, string? code) =>
        IsCredentialRefusal(status, code)
        || (status == HttpStatusCode.Forbidden && code == TollgateQuotaExceededException.QuotaExceededCode)
        || (status == HttpStatusCode.PaymentRequired && code == TollgateQuotaExceededException.InsufficientCreditsCode);

    private static readonly System.Text.RegularExpressions.Regex ResetsAtText =
        new(@"resets at (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// The reset time the detail names (Tollgate says <c>it resets at 2026-01-01T00:00:00Z</c>), else the start of the
    /// calendar month (UTC) after the answer's <c>Date</c> (or this clock's now): quotas are per calendar month.
    /// </summary>
    internal static DateTimeOffset QuotaReset(string detail, HttpResponseMessage response, TimeProvider time)
    {
        var match = ResetsAtText.Match(detail);
        if (match.Success && DateTimeOffset.TryParse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var named))
        {
            return named;
        }
        var now = (response.Headers.Date ?? time.GetUtcNow()).ToUniversalTime();
        return new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
    }

    /// <summary>Reads <c>{"detail", "code"}</c>; a non-string <c>detail</c> (a validation list) is kept as its JSON text.</summary>
    internal static (string? Code, string? Detail) Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }
            var root = document.RootElement;
            var code = root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d)
                ? d.ValueKind == JsonValueKind.String ? d.GetString() : d.GetRawText()
                : null;
            return (code, string.IsNullOrEmpty(detail) ? null : detail);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary><c>Retry-After</c> as delta-seconds or an HTTP date; never negative.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
