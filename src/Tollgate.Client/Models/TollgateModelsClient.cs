using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Client.Behavior;
using Tollgate.Client.Http;

namespace Tollgate.Client.Models;

/// <summary>
/// The Models API's batch endpoints (<c>POST /api/{model}</c>, multipart with an <c>upload_file</c> part), authenticated
/// with <c>X-API-Key</c>. Answers come back as raw JSON, since each model has its own result shape
/// (see the OpenAPI contracts).
/// </summary>
/// <remarks>
/// Thread-safe. Built from options (or by <c>services.AddTollgateClient(…)</c>), it behaves as
/// <see cref="TollgateClientBehavior"/> describes: at most the key's concurrency of requests per model in flight, 429s
/// retried after <c>Retry-After</c> with backoff and jitter, requests paced by the rate windows. Built over your own
/// <see cref="HttpClient"/>, it does only what that client's handlers do (see
/// <see cref="TollgateResilienceExtensions.AddTollgateBehavior"/>). A 429 that outlasts the retries surfaces as
/// <see cref="TollgateRateLimitedException"/>, a used-up monthly quota as <see cref="TollgateQuotaExceededException"/>
/// (never retried), a refused key as <see cref="TollgateAuthenticationException"/> (never retried), any other error as
/// <see cref="TollgateApiException"/>.
/// </remarks>
public sealed class TollgateModelsClient : IDisposable
{
    /// <summary>The multipart part that carries the audio, as the batch contracts name it.</summary>
    public const string FilePartName = "upload_file";

    private const string ApiKeyHeader = "X-API-Key";

    private readonly ClientCore _core;
    private readonly string _apiKey;

    /// <summary>Creates a client over an <see cref="HttpClient"/> you own (for example one from <c>IHttpClientFactory</c>).</summary>
    /// <param name="httpClient">
    /// Its <see cref="HttpClient.BaseAddress"/> is the server's root (e.g. <c>http://127.0.0.1:5080</c>). Not disposed
    /// by this client; its default headers are not changed. Large files take time: give it a generous
    /// <see cref="HttpClient.Timeout"/> (its default is 100 s).
    /// </param>
    /// <param name="apiKey">The API key, sent as <c>X-API-Key</c> on every request.</param>
    /// <param name="timeProvider">The clock for reading <c>Retry-After</c> dates; default <see cref="TimeProvider.System"/>.</param>
    public TollgateModelsClient(HttpClient httpClient, string apiKey, TimeProvider? timeProvider = null)
        : this(new ClientCore(httpClient ?? throw new ArgumentNullException(nameof(httpClient)), owns: false, timeProvider ?? TimeProvider.System, null), apiKey)
    {
    }

    /// <summary>
    /// Creates a client with its own <see cref="HttpClient"/> (disposed with this client) and the SDK's behaviour, as
    /// <paramref name="options"/> say (<see cref="TollgateClientOptions.BaseAddress"/> and <see cref="TollgateClientOptions.ApiKey"/> required).
    /// </summary>
    /// <param name="options">The options; copied, and checked (an invalid one throws <see cref="ArgumentException"/>).</param>
    /// <param name="behavior">
    /// The state to share with other clients of the same key (gates, rate windows, totals); default a new one for this client.
    /// </param>
    public TollgateModelsClient(TollgateClientOptions options, TollgateClientBehavior? behavior = null)
        : this(options, behavior, new SocketsHttpHandler())
    {
    }

    /// <summary>
    /// Creates a client with its own <see cref="HttpClient"/>, disposed with this client, with the SDK's behaviour and
    /// <paramref name="retry"/> as its retry policy.
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
        : this(Options(baseAddress, apiKey, retry), new TollgateClientBehavior(Options(baseAddress, apiKey, retry), timeProvider), transport)
    {
    }

    /// <summary>As <see cref="TollgateModelsClient(TollgateClientOptions, TollgateClientBehavior?)"/>, over your own primary handler (a proxy, a custom <see cref="SocketsHttpHandler"/>).</summary>
    /// <param name="options">The options; copied and checked.</param>
    /// <param name="behavior">The state to share with other clients of the same key; null for a new one.</param>
    /// <param name="primaryHandler">The transport under the SDK's behaviour; disposed with this client.</param>
    public TollgateModelsClient(TollgateClientOptions options, TollgateClientBehavior? behavior, HttpMessageHandler primaryHandler)
        : this(Build(options, behavior, primaryHandler), options.ApiKey!)
    {
    }

    /// <summary>Over a client of the DI registration: its handler already runs <paramref name="behavior"/>.</summary>
    internal TollgateModelsClient(HttpClient httpClient, string apiKey, TollgateClientBehavior behavior)
        : this(new ClientCore(httpClient, owns: false, behavior.Time, behavior), apiKey)
    {
    }

    private TollgateModelsClient(ClientCore core, string apiKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        _core = core;
        _apiKey = apiKey;
    }

    /// <summary>The behaviour this client runs (its gates, windows and <see cref="TollgateClientBehavior.Statistics"/>); null over a foreign <see cref="HttpClient"/>.</summary>
    public TollgateClientBehavior? Behavior => _core.Behavior;

    /// <summary>
    /// Sends one file to a batch model (<c>POST /api/{model}</c>) and returns its JSON answer.
    /// </summary>
    /// <param name="model">The model, i.e. the path's last segment: <c>velma-2-stt-batch</c>, <c>velma-2-emotion-batch</c>...</param>
    /// <param name="file">The audio, streamed as the <c>upload_file</c> part (not buffered; read from its current position, not disposed).</param>
    /// <param name="fileName">The file name sent with it; the server uses its extension to tell the format.</param>
    /// <param name="fields">Other form fields of the model's contract (e.g. <c>speaker_diarization</c>); default none.</param>
    /// <param name="cancellationToken">Cancels the call, including its waits for a slot, a window or a retry.</param>
    /// <returns>The answer's JSON; dispose it when done.</returns>
    /// <exception cref="TollgateRateLimitedException">429: concurrency limit or request-rate window full, after the retries.</exception>
    /// <exception cref="TollgateQuotaExceededException">403 <c>quota_exceeded</c>: the monthly audio hours are used up (with <see cref="TollgateQuotaExceededException.ResetsAt"/>).</exception>
    /// <exception cref="TollgateAuthenticationException">The key is missing, malformed, unknown or revoked.</exception>
    /// <exception cref="TollgateApiException">Any other error: 400 bad file, 403 model not permitted, 413, 422...</exception>
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

        await _core.LearnConcurrencyAsync(model, _apiKey, cancellationToken).ConfigureAwait(false);

        using var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields ?? [])
        {
            content.Add(new StringContent(value), name);
        }
        var filePart = new LeaveOpenStreamContent(file);
        filePart.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(filePart, FilePartName, fileName);

        using var request = new HttpRequestMessage(HttpMethod.Post, _core.Url("api/" + Uri.EscapeDataString(model))) { Content = content };
        // A seekable stream is rewound for a retry; any other can be sent only once.
        request.Options.Set(TollgateResilienceExtensions.NotReplayable, !file.CanSeek);
        request.Options.Set(TollgateRequestOptions.Model, model);
        request.Headers.Add(ApiKeyHeader, _apiKey);
        return await _core.ReadDocumentAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static TollgateClientOptions Options(Uri baseAddress, string apiKey, TollgateRetryOptions? retry) => new()
    {
        BaseAddress = baseAddress,
        ApiKey = apiKey,
        Retry = retry ?? TollgateRetryOptions.Default,
        RequestTimeout = Timeout.InfiniteTimeSpan,
    };

    private static ClientCore Build(TollgateClientOptions options, TollgateClientBehavior? behavior, HttpMessageHandler transport)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            throw new ArgumentException("Invalid TollgateClientOptions: ApiKey is required by the Models API client.", nameof(options));
        }
        return ClientCore.Create(options, behavior ?? new TollgateClientBehavior(options), transport);
    }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it; one passed in is left alone.</summary>
    public void Dispose() => _core.Dispose();
}
