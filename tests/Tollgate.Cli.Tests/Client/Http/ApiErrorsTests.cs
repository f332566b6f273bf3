using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Tollgate.Client.Http;

public sealed class ApiErrorsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Read_ErrorBody_CarriesStatusCodeAndDetail()
    {
        using var response = Response(HttpStatusCode.NotFound, """{"detail": "No organization org_x.", "code": "not_found"}""");
        var ex = await ApiErrors.ReadAsync(response, _time, default);
        Assert.IsType<TollgateApiException>(ex);
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("not_found", ex.Code);
        Assert.Equal("No organization org_x.", ex.Detail);
        Assert.Equal("404 not_found: No organization org_x.", ex.Message);
    }

    [Fact]
    public async Task Read_NoBody_DetailIsTheStatusLineAndCodeNull()
    {
        using var response = Response(HttpStatusCode.NotFound, "");
        var ex = await ApiErrors.ReadAsync(response, _time, default);
        Assert.Null(ex.Code);
        Assert.Equal("404 Not Found", ex.Detail);
    }

    [Fact]
    public async Task Read_NotOurShape_QuotesTheBody()
    {
        using var response = Response(HttpStatusCode.BadGateway, "<html>bad gateway</html>", "text/html");
        var ex = await ApiErrors.ReadAsync(response, _time, default);
        Assert.Null(ex.Code);
        Assert.Equal("<html>bad gateway</html>", ex.Detail);
    }

    [Fact]
    public async Task Read_ValidationListDetail_KeepsItsJson()
    {
        using var response = Response(HttpStatusCode.UnprocessableEntity, """{"detail": [{"loc": ["body", "upload_file"], "msg": "field required"}]}""");
        var ex = await ApiErrors.ReadAsync(response, _time, default);
        Assert.Null(ex.Code);
        Assert.Contains("field required", ex.Detail);
    }

    [Fact]
    public async Task Read_429WithDeltaSeconds_IsRateLimitedWithRetryAfter()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, """{"detail": "Concurrency limit reached.", "code": "concurrency_limit"}""");
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(3));
        var ex = Assert.IsType<TollgateRateLimitedException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Equal(TimeSpan.FromSeconds(3), ex.RetryAfter);
        Assert.Equal("concurrency_limit", ex.Code);
    }

    [Fact]
    public async Task Read_429WithHttpDate_RetryAfterIsMeasuredFromNow()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, """{"detail": "Slow down.", "code": "rate_limited"}""");
        response.Headers.RetryAfter = new RetryConditionHeaderValue(_time.GetUtcNow().AddSeconds(42));
        var ex = Assert.IsType<TollgateRateLimitedException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Equal(TimeSpan.FromSeconds(42), ex.RetryAfter);
    }

    [Fact]
    public async Task Read_429WithoutRetryAfter_RetryAfterIsNull()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, "");
        var ex = Assert.IsType<TollgateRateLimitedException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Null(ex.RetryAfter);
    }

    [Fact]
    public async Task Read_403QuotaExceeded_IsQuotaExceeded()
    {
        using var response = Response(HttpStatusCode.Forbidden, """{"detail": "Monthly audio quota used up.", "code": "quota_exceeded"}""");
        var ex = Assert.IsType<TollgateQuotaExceededException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
        Assert.Equal("Monthly audio quota used up.", ex.Detail);
    }

    [Fact]
    public async Task Read_403OtherCode_IsAPlainApiException()
    {
        using var response = Response(HttpStatusCode.Forbidden, """{"detail": "Not entitled.", "code": "model_not_permitted"}""");
        var ex = await ApiErrors.ReadAsync(response, _time, default);
        Assert.IsType<TollgateApiException>(ex);
        Assert.Equal("model_not_permitted", ex.Code);
    }

    [Fact]
    public async Task Read_QuotaExceeded_CarriesTheResetTheDetailNames()
    {
        using var response = Response(HttpStatusCode.Forbidden,
            """{"detail": "Monthly audio quota for velma-2-stt-batch exhausted: 0 audio hours remain (0 ms); it resets at 2025-04-01T00:00:00Z.", "code": "quota_exceeded"}""");
        var ex = Assert.IsType<TollgateQuotaExceededException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Equal(new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero), ex.ResetsAt);
    }

    [Fact]
    public async Task Read_QuotaExceededWithoutATime_ResetsAtTheNextCalendarMonthOfTheAnswersDate()
    {
        using var response = Response(HttpStatusCode.Forbidden, """{"detail": "Used up.", "code": "quota_exceeded"}""");
        response.Headers.Date = new DateTimeOffset(2025, 12, 31, 23, 0, 0, TimeSpan.Zero);
        var ex = Assert.IsType<TollgateQuotaExceededException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), ex.ResetsAt);
    }

    [Fact]
    public async Task Read_DubbingInsufficientCredits_IsAQuotaRefusal()
    {
        using var response = Response(HttpStatusCode.PaymentRequired, """{"detail": "Not enough credits.", "code": "insufficient_credits"}""");
        var ex = Assert.IsType<TollgateQuotaExceededException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Equal(new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero), ex.ResetsAt);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "unknown_api_key")]
    [InlineData(HttpStatusCode.Unauthorized, "revoked_api_key")]
    [InlineData(HttpStatusCode.Forbidden, "malformed_api_key")]
    [InlineData(HttpStatusCode.TooManyRequests, "auth_throttled")]
    public async Task Read_RefusedKey_IsAnAuthenticationException(HttpStatusCode status, string code)
    {
        using var response = Response(status, $$"""{"detail": "No.", "code": "{{code}}"}""");
        var ex = Assert.IsType<TollgateAuthenticationException>(await ApiErrors.ReadAsync(response, _time, default));
        Assert.Equal(code, ex.Code);
    }

    private static HttpResponseMessage Response(HttpStatusCode status, string body, string mediaType = "application/json") =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
}
