using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;

namespace Tollgate.Client.Models;

/// <summary>
/// The retry policy and request shape, over a scripted transport: the real server has no concurrency limits yet,
/// so 429s cannot be provoked end to end (see EndToEnd/ModelsClientTests for the real thing).
/// </summary>
public sealed class TollgateModelsClientTests
{
    private static readonly Uri Server = new("http://127.0.0.1:5080/");
    private static readonly TollgateRetryOptions NoWait = new() { BaseDelay = TimeSpan.Zero };

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task PostBatch_SendsTheKeyFileAndFieldsAsMultipart()
    {
        var transport = new ScriptedTransport(_ => Json(HttpStatusCode.OK, """{"text": "hello"}"""));
        using var client = new TollgateModelsClient(Server, "tgk_secret", NoWait, transport, _time);
        using var file = new MemoryStream(TestAudio.Wav(0.1));

        using var answer = await client.PostBatchAsync("velma-2-stt-batch", file, "a b.wav", new Dictionary<string, string> { ["speaker_diarization"] = "true" });

        Assert.Equal("hello", answer.RootElement.GetProperty("text").GetString());
        var request = Assert.Single(transport.Requests);
        Assert.Equal("http://127.0.0.1:5080/api/velma-2-stt-batch", request.Uri.ToString());
        Assert.Equal("tgk_secret", request.ApiKey);
        Assert.Contains("name=upload_file; filename=\"a b.wav\"", request.Body);
        Assert.Contains("name=speaker_diarization", request.Body);
        Assert.Equal(file.Length, request.FileBytes);
        Assert.True(file.CanRead, "the caller's stream stays open");
    }

    [Fact]
    public async Task PostBatch_429ThenOk_RetriesWithTheWholeFile()
    {
        var transport = new ScriptedTransport(
            _ => RateLimited(TimeSpan.Zero),
            _ => RateLimited(null),
            _ => Json(HttpStatusCode.OK, "{}"));
        using var client = new TollgateModelsClient(Server, "k", NoWait, transport, _time);
        using var file = new MemoryStream(TestAudio.Wav(0.1));

        using var answer = await client.PostBatchAsync("velma-2-stt-batch", file, "a.wav");

        Assert.Equal(3, transport.Requests.Count);
        Assert.All(transport.Requests, r => Assert.Equal(file.Length, r.FileBytes));
    }

    [Fact]
    public async Task PostBatch_429BeyondTheRetries_ThrowsRateLimitedWithRetryAfter()
    {
        var transport = new ScriptedTransport(_ => RateLimited(TimeSpan.Zero));
        using var client = new TollgateModelsClient(Server, "k", NoWait with { MaxRetryAttempts = 2 }, transport, _time);
        using var file = new MemoryStream(TestAudio.Wav(0.1));

        var ex = await Assert.ThrowsAsync<TollgateRateLimitedException>(() => client.PostBatchAsync("velma-2-stt-batch", file, "a.wav"));

        Assert.Equal(3, transport.Requests.Count);
        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
        Assert.Equal("concurrency_limit", ex.Code);
    }

    [Fact]
    public async Task PostBatch_WaitsForRetryAfter()
    {
        var transport = new ScriptedTransport(_ => RateLimited(TimeSpan.FromSeconds(3)), _ => Json(HttpStatusCode.OK, "{}"));
        using var client = new TollgateModelsClient(Server, "k", TollgateRetryOptions.Default, transport, _time);
        using var file = new MemoryStream(TestAudio.Wav(0.1));

        var call = client.PostBatchAsync("velma-2-stt-batch", file, "a.wav");
        await WaitUntilAsync(() => transport.Requests.Count == 1);
        _time.Advance(TimeSpan.FromSeconds(2.9));
        await Task.Delay(50);
        Assert.Single(transport.Requests);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        (await call.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        Assert.Equal(2, transport.Requests.Count);
    }

    [Fact]
    public async Task PostBatch_QuotaExceeded_IsNotRetried()
    {
        var transport = new ScriptedTransport(_ => Json(HttpStatusCode.Forbidden, """{"detail": "Monthly audio quota used up.", "code": "quota_exceeded"}"""));
        using var client = new TollgateModelsClient(Server, "k", NoWait, transport, _time);
        using var file = new MemoryStream(TestAudio.Wav(0.1));

        var ex = await Assert.ThrowsAsync<TollgateQuotaExceededException>(() => client.PostBatchAsync("velma-2-stt-batch", file, "a.wav"));

        Assert.Single(transport.Requests);
        Assert.Equal("Monthly audio quota used up.", ex.Detail);
    }

    [Fact]
    public async Task PostBatch_NonSeekableStream_IsSentOnce()
    {
        var transport = new ScriptedTransport(_ => RateLimited(TimeSpan.Zero));
        using var client = new TollgateModelsClient(Server, "k", NoWait, transport, _time);
        using var file = new ForwardOnlyStream(TestAudio.Wav(0.1));

        await Assert.ThrowsAsync<TollgateRateLimitedException>(() => client.PostBatchAsync("velma-2-stt-batch", file, "a.wav"));

        Assert.Single(transport.Requests);
    }

    [Fact]
    public async Task PostBatch_RetriesOff_ThrowsAtOnce()
    {
        var transport = new ScriptedTransport(_ => RateLimited(TimeSpan.FromSeconds(1)));
        using var client = new TollgateModelsClient(Server, "k", TollgateRetryOptions.None, transport, _time);
        using var file = new MemoryStream(TestAudio.Wav(0.1));

        var ex = await Assert.ThrowsAsync<TollgateRateLimitedException>(() => client.PostBatchAsync("velma-2-stt-batch", file, "a.wav"));

        Assert.Single(transport.Requests);
        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
    }

    [Theory]
    [InlineData(0, 1000)]
    [InlineData(1, 2000)]
    [InlineData(3, 8000)]
    [InlineData(10, 30000)]
    public void NextDelay_NoRetryAfter_IsFullJitterUnderTheExponentialCeiling(int attempt, int ceilingMs)
    {
        for (var i = 0; i < 200; i++)
        {
            var delay = TollgateResilienceExtensions.NextDelay(null, attempt, TollgateRetryOptions.Default, _time);
            Assert.InRange(delay.TotalMilliseconds, 0, ceilingMs);
        }
    }

    [Fact]
    public void NextDelay_RetryAfter_IsHonouredUpToMaxDelay()
    {
        using var soon = RateLimited(TimeSpan.FromSeconds(4));
        using var late = RateLimited(TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.FromSeconds(4), TollgateResilienceExtensions.NextDelay(soon, 0, TollgateRetryOptions.Default, _time));
        Assert.Equal(TimeSpan.FromSeconds(30), TollgateResilienceExtensions.NextDelay(late, 0, TollgateRetryOptions.Default, _time));
    }

    [Fact]
    public void Options_Invalid_AllErrorsInOneException()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new TollgateModelsClient(Server, "k", new TollgateRetryOptions { MaxRetryAttempts = -1, BaseDelay = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("MaxRetryAttempts", ex.Message);
        Assert.Contains("BaseDelay", ex.Message);
    }

    private static HttpResponseMessage RateLimited(TimeSpan? retryAfter)
    {
        var response = Json(HttpStatusCode.TooManyRequests, """{"detail": "Concurrency limit reached.", "code": "concurrency_limit"}""");
        if (retryAfter is { } delta)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(delta);
        }
        return response;
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }

    private sealed record SentRequest(Uri Uri, string? ApiKey, string Body, long FileBytes);

    /// <summary>
    /// Answers with the scripted responses in turn (the last one repeats), recording what each request carried. The
    /// account read the gate makes first (<c>GET /v1/me</c>) is answered 404, as a Models API without it would, and not recorded.
    /// </summary>
    private sealed class ScriptedTransport(params Func<HttpRequestMessage, HttpResponseMessage>[] script) : HttpMessageHandler
    {
        private readonly List<SentRequest> _requests = [];

        public IReadOnlyList<SentRequest> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Get && request.RequestUri!.AbsolutePath == "/v1/me")
            {
                var missing = Json(HttpStatusCode.NotFound, """{"detail": "Not Found", "code": "not_found"}""");
                missing.RequestMessage = request;
                return missing;
            }
            var bytes = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
            var body = Encoding.Latin1.GetString(bytes);
            var fileBytes = FilePartLength(request.Content!, bytes);
            int index;
            lock (_requests)
            {
                _requests.Add(new SentRequest(request.RequestUri!, request.Headers.TryGetValues("X-API-Key", out var v) ? v.Single() : null, body, fileBytes));
                index = _requests.Count - 1;
            }
            var response = script[Math.Min(index, script.Length - 1)](request);
            response.RequestMessage = request;
            return response;
        }

        private static long FilePartLength(HttpContent content, byte[] bytes)
        {
            var boundary = content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
            var text = Encoding.Latin1.GetString(bytes);
            var start = text.IndexOf("name=upload_file", StringComparison.Ordinal);
            var dataStart = text.IndexOf("\r\n\r\n", start, StringComparison.Ordinal) + 4;
            var dataEnd = text.IndexOf("\r\n--" + boundary, dataStart, StringComparison.Ordinal);
            return dataEnd - dataStart;
        }
    }

    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
