using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Tollgate.Client.Http;

namespace Tollgate.Client.Models;

/// <summary>
/// The Models API's batch endpoints (<c>POST /api/{model}</c>, multipart with an <c>upload_file</c> part), authenticated
/// with <c>X-API-Key</c>. Answers come back as raw JSON, since each model has its own result shape
/// (see the OpenAPI contracts).
/// </summary>
/// <remarks>
/// Thread-safe. Built from a base address, it retries 429 answers (<see cref="TollgateRetryOptions"/>); built over
/// your <see cref="HttpClient"/>, it retries only if that client's handlers do (see
/// <see cref="TollgateResilienceExtensions.AddTollgateRetry"/>). A 429 that outlasts the retries surfaces as
/// <see cref="TollgateRateLimitedException"/> (with the server's <c>Retry-After</c>), a used-up monthly quota as
/// <see cref="TollgateQuotaExceededException"/> (never retried), any other error as <see cref="TollgateApiException"/>.
/// </remarks>
public sealed class TollgateModelsClient : IDisposable
{
    /// <summary>The multipart part that carries the audio, as the batch contracts name it.</summary>
    public const string FilePartName = "upload_file";

    private const string ApiKeyHeader = "X-API-Key";

    private readonly HttpClient _http;
    private readonly bool _ownsHttpClient;
    private readonly Uri _baseAddress;
    private readonly string _apiKey;
    private readonly TimeProvider _time;

    /// <summary>Creates a client over an <see cref="HttpClient"/> you own (for example one from <c>IHttpClientFactory</c>).</summary>
    /// <param name="httpClient">
    /// Its <see cref="HttpClient.BaseAddress"/> is the server's root (e.g. <c>http://127.0.0.1:5080</c>). Not disposed
    /// by this client; its default headers are not changed. Large files take time: give it a generous
    /// <see cref="HttpClient.Timeout"/> (its default is 100 s).
    /// </param>
    /// <param name="apiKey">The API key, sent as <c>X-API-Key</c> on every request.</param>
    /// <param name="timeProvider">The clock for reading <c>Retry-After</c> dates; default <see cref="TimeProvider.System"/>.</param>
    public TollgateModelsClient(HttpClient httpClient, string apiKey, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        _http = httpClient;
        _baseAddress = BaseAddress.Normalize(httpClient.BaseAddress, nameof(httpClient));
        _apiKey = apiKey;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Creates a client with its own <see cref="HttpClient"/>, disposed with this client, that retries 429 answers as
    /// <paramref name="retry"/> says. Its timeout is <see cref="Timeout.InfiniteTimeSpan"/>: pass a
    /// <see cref="CancellationToken"/> to bound a call.
    /// </summary>
    /// <param name="baseAddress">The server's root, e.g. <c>http://127.0.0.1:5080</c>.</param>
    /// <param name="apiKey">The API key.</param>
    /// <param name="retry">The retry policy; default <see cref="TollgateRetryOptions.Default"/> (3 retries honouring <c>Retry-After</c>).</param>
    public TollgateModelsClient(Uri baseAddress, string apiKey, TollgateRetryOptions? retry = null)
        : this(baseAddress, apiKey, retry, new SocketsHttpHandler(), TimeProvider.System)
    {
    }

    /// <summary>The owning constructor, with the transport and clock replaceable (tests).</summary>
    internal TollgateModelsClient(Uri baseAddress, string apiKey, TollgateRetryOptions? retry, HttpMessageHandler transport, TimeProvider timeProvider)
        : this(CreateHttpClient(baseAddress, retry, transport, timeProvider), apiKey, timeProvider)
    {
        _ownsHttpClient = true;
    }

    /// <summary>
    /// Sends one file to a batch model (<c>POST /api/{model}</c>) and returns its JSON answer.
    /// </summary>
    /// <param name="model">The model, i.e. the path's last segment: <c>velma-2-stt-batch</c>, <c>velma-2-emotion-batch</c>...</param>
    /// <param name="file">The audio, streamed as the <c>upload_file</c> part (not buffered; read from its current position, not disposed).</param>
    /// <param name="fileName">The file name sent with it; the server uses its extension to tell the format.</param>
    /// <param name="fields">Other form fields of the model's contract (e.g. <c>speaker_diarization</c>); default none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The answer's JSON; dispose it when done.</returns>
    /// <exception cref="TollgateRateLimitedException">429: concurrency limit or request-rate window full.</exception>
    /// <exception cref="TollgateQuotaExceededException">403 <c>quota_exceeded</c>: the monthly audio hours are used up.</exception>
    /// <exception cref="TollgateApiException">Any other error: 400 bad file, 401 bad key, 403 model not permitted, 413, 422...</exception>
    public async Task<JsonDocument> PostBatchAsync(
        string model,
        Stream file,
        string fileName,
        IEnumerable<KeyValuePair<string, string>>? fields = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);

        using var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields ?? [])
        {
            content.Add(new StringContent(value), name);
        }
        var filePart = new LeaveOpenStreamContent(file);
        filePart.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(filePart, FilePartName, fileName);

        using var request = new HttpRequestMessage(HttpMethod.Post, BaseAddress.Combine(_baseAddress, "api/" + Uri.EscapeDataString(model)))
        {
            Content = content,
        };
        // A seekable stream is rewound for a retry; any other can be sent only once.
        request.Options.Set(TollgateResilienceExtensions.NotReplayable, !file.CanSeek);
        request.Headers.Add(ApiKeyHeader, _apiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await ApiErrors.ThrowIfErrorAsync(response, _time, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static HttpClient CreateHttpClient(Uri baseAddress, TollgateRetryOptions? retry, HttpMessageHandler transport, TimeProvider timeProvider)
    {
        var normalized = BaseAddress.Normalize(baseAddress, nameof(baseAddress));
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider }
            .AddTollgateRetry(retry)
            .Build();
        return new HttpClient(new ResilienceHandler(pipeline) { InnerHandler = transport })
        {
            BaseAddress = normalized,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it; one passed in is left alone.</summary>
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _http.Dispose();
        }
    }
}

/// <summary>A stream part that leaves the caller's stream open when the request is disposed.</summary>
file sealed class LeaveOpenStreamContent(Stream stream) : StreamContent(stream)
{
    protected override void Dispose(bool disposing)
    {
        // StreamContent would dispose the stream; it belongs to the caller.
    }
}
