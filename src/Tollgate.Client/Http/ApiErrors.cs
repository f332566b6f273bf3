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
            HttpStatusCode.TooManyRequests => new TollgateRateLimitedException(code, detail, RetryAfter(response, time)),
            HttpStatusCode.Forbidden when code == TollgateQuotaExceededException.QuotaExceededCode => new TollgateQuotaExceededException(detail),
            _ => new TollgateApiException(response.StatusCode, code, detail),
        };
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
