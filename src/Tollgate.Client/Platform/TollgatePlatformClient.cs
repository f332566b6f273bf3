using System.Net.Http.Headers;
using System.Text;
using Tollgate.Client.Behavior;
using Tollgate.Client.Http;

namespace Tollgate.Client.Platform;

/// <summary>
/// The Platform API (<c>POST /api_service</c>, <c>GET /api_service/job_status/{job_id}</c>), authenticated with the
/// <c>accountuuid</c> and <c>apikey</c> headers: single-file and multi-file jobs, realtime sessions, and waiting for a
/// job with polling no faster than every 3 s (with jitter, and never sooner than the server's <c>retry_after_seconds</c>).
/// </summary>
/// <remarks>Thread-safe. Errors surface as in <see cref="Models.TollgateModelsClient"/>: <see cref="TollgateQuotaExceededException"/>,
/// <see cref="TollgateAuthenticationException"/>, <see cref="TollgateRateLimitedException"/>, <see cref="TollgateApiException"/>.</remarks>
public sealed class TollgatePlatformClient : IDisposable
{
    private readonly ClientCore _core;
    private readonly string _accountId;
    private readonly string _apiKey;
    private readonly Poller _poller;

    /// <summary>
    /// Creates a client with its own <see cref="HttpClient"/> (disposed with this client) and the SDK's behaviour;
    /// <see cref="TollgateClientOptions.BaseAddress"/>, <see cref="TollgateClientOptions.ApiKey"/> and
    /// <see cref="TollgateClientOptions.AccountId"/> are required.
    /// </summary>
    /// <param name="options">The options; copied and checked (an invalid one throws <see cref="ArgumentException"/>).</param>
    /// <param name="behavior">The state to share with other clients of the same key; default a new one.</param>
    public TollgatePlatformClient(TollgateClientOptions options, TollgateClientBehavior? behavior = null)
        : this(options, behavior, new SocketsHttpHandler())
    {
    }

    /// <summary>Creates a client over an <see cref="HttpClient"/> you own (its handlers decide retries); not disposed by this client.</summary>
    /// <param name="httpClient">Its <see cref="HttpClient.BaseAddress"/> is the server's root.</param>
    /// <param name="accountId">The <c>accountuuid</c> (on Tollgate: the key's organization id).</param>
    /// <param name="apiKey">The <c>apikey</c>.</param>
    /// <param name="options">Polling settings; default <see cref="TollgateClientOptions"/>'s defaults.</param>
    public TollgatePlatformClient(HttpClient httpClient, string accountId, string apiKey, TollgateClientOptions? options = null)
        : this(new ClientCore(httpClient ?? throw new ArgumentNullException(nameof(httpClient)), owns: false, TimeProvider.System, null), accountId, apiKey, options ?? new())
    {
    }

    /// <summary>As <see cref="TollgatePlatformClient(TollgateClientOptions, TollgateClientBehavior?)"/>, over your own primary handler (a proxy, a custom <see cref="SocketsHttpHandler"/>).</summary>
    /// <param name="options">The options; copied and checked.</param>
    /// <param name="behavior">The state to share with other clients of the same key; null for a new one.</param>
    /// <param name="primaryHandler">The transport under the SDK's behaviour; disposed with this client.</param>
    public TollgatePlatformClient(TollgateClientOptions options, TollgateClientBehavior? behavior, HttpMessageHandler primaryHandler)
        : this(Build(options, ref behavior, primaryHandler), options.AccountId!, options.ApiKey!, options)
    {
    }

    internal TollgatePlatformClient(HttpClient httpClient, TollgateClientBehavior behavior)
        : this(new ClientCore(httpClient, owns: false, behavior.Time, behavior), Required(behavior.Options.AccountId, "AccountId"),
            Required(behavior.Options.ApiKey, "ApiKey"), behavior.Options)
    {
    }

    private TollgatePlatformClient(ClientCore core, string accountId, string apiKey, TollgateClientOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountId);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        _core = core;
        _accountId = accountId;
        _apiKey = apiKey;
        _poller = new Poller(options, core.Time, core.Behavior?.Statistics);
    }

    /// <summary>The behaviour this client runs; null over a foreign <see cref="HttpClient"/>.</summary>
    public TollgateClientBehavior? Behavior => _core.Behavior;

    /// <summary>Submits a single-file job (multipart; at most 5 MB of MP3, WAV or Opus). It starts processing at once.</summary>
    /// <param name="audio">The audio (read from its position; not disposed).</param>
    /// <param name="fileName">Its name; its extension (<c>.mp3</c>, <c>.wav</c>, <c>.opus</c>/<c>.ogg</c>) is sent as <c>file_extension</c>.</param>
    /// <param name="flags">The analyses; default none (plain transcription).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<PlatformSubmission> SubmitFileAsync(Stream audio, string fileName, PlatformFlags? flags = null, CancellationToken cancellationToken = default) =>
        UploadAsync(audio, fileName, flags, jobId: null, finalize: null, cancellationToken);

    /// <summary>
    /// Submits a multi-file job: the first file opens it (<c>finalize_job: false</c>), the others join it by <c>job_id</c>,
    /// the last with <c>finalize_job: true</c>. One file is a single-file job.
    /// </summary>
    /// <param name="files">The files in order: each stream and its name (streams are read, not disposed).</param>
    /// <param name="flags">The analyses, fixed by the first upload; default none.</param>
    /// <param name="cancellationToken">Cancels the uploads (an open job expires by itself on the server).</param>
    /// <returns>The answer to the last upload (the job is then processing).</returns>
    public async Task<PlatformSubmission> SubmitFilesAsync(IReadOnlyList<(Stream Audio, string FileName)> files, PlatformFlags? flags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
        {
            throw new ArgumentException("At least one file is required.", nameof(files));
        }
        if (files.Count == 1)
        {
            return await SubmitFileAsync(files[0].Audio, files[0].FileName, flags, cancellationToken).ConfigureAwait(false);
        }
        var answer = await UploadAsync(files[0].Audio, files[0].FileName, flags, jobId: null, finalize: false, cancellationToken).ConfigureAwait(false);
        for (var i = 1; i < files.Count; i++)
        {
            answer = await AddFileAsync(answer.JobId, files[i].Audio, files[i].FileName, finalize: i == files.Count - 1, cancellationToken).ConfigureAwait(false);
        }
        return answer;
    }

    /// <summary>Adds a file to an open multi-file job; <paramref name="finalize"/> on the last one starts the job.</summary>
    /// <param name="jobId">The job the first upload opened.</param>
    /// <param name="audio">The audio (read, not disposed).</param>
    /// <param name="fileName">Its name, with the extension sent as <c>file_extension</c>.</param>
    /// <param name="finalize">Whether this is the last file; default <see langword="false"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">409 <c>job_not_open</c> for a job already finalized; 404 for an unknown one.</exception>
    public Task<PlatformSubmission> AddFileAsync(string jobId, Stream audio, string fileName, bool finalize = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        return UploadAsync(audio, fileName, flags: null, jobId, finalize, cancellationToken);
    }

    /// <summary>Opens a realtime job (<c>submission_type: realtime_websocket</c>): stream to its <see cref="PlatformRealtimeSession.RealtimeUrl"/>.</summary>
    /// <param name="flags">The analyses; default none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<PlatformRealtimeSession> OpenRealtimeAsync(PlatformFlags? flags = null, CancellationToken cancellationToken = default)
    {
        var body = $"{{\"submission_type\":\"realtime_websocket\",\"flags\":{(flags ?? new()).ToJson()}}}";
        using var request = Request(HttpMethod.Post, "api_service");
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await _core.ReadAsync(request, PlatformJsonContext.Default.PlatformRealtimeSession, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The model a realtime session is metered and gated as: <c>velma-2-stt-streaming</c>.</summary>
    public const string RealtimeModel = "velma-2-stt-streaming";

    /// <summary>
    /// Streams <paramref name="audio"/> to a realtime session's <see cref="PlatformRealtimeSession.RealtimeUrl"/> as a
    /// Models API stream (the URL's token, plus <paramref name="query"/>: <c>audio_format</c>, <c>sample_rate</c>,
    /// <c>num_channels</c>), hands every message to <paramref name="onMessage"/> and returns how it ended; the job then
    /// completes with the utterances sent. With a behaviour, the stream holds a slot of <see cref="RealtimeModel"/>'s
    /// concurrency gate from before it connects until it has closed. (A browser speaks Pipecat to the same URL with no
    /// query parameters; this helper is for server-side clients.)
    /// </summary>
    /// <param name="session">The answer of <see cref="OpenRealtimeAsync"/>; its URL is good for one connection, within its lifetime.</param>
    /// <param name="audio">The audio, read to its end.</param>
    /// <param name="query">The stream's parameters; default <c>audio_format=s16le</c>, <c>sample_rate=16000</c>, <c>num_channels=1</c> (raw PCM); pass <c>audio_format=wav</c>… for a file.</param>
    /// <param name="onMessage">Called for every JSON message, in order (including <c>done</c> and <c>error</c>).</param>
    /// <param name="cancellationToken">Cancels the stream (the connection is aborted), or its wait for a gate slot.</param>
    public async Task<Models.StreamResult> StreamRealtimeAsync(
        PlatformRealtimeSession session,
        Stream audio,
        IReadOnlyDictionary<string, string>? query = null,
        Func<System.Text.Json.JsonElement, ValueTask>? onMessage = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(audio);
        var parameters = query ?? new Dictionary<string, string> { ["audio_format"] = "s16le", ["sample_rate"] = "16000", ["num_channels"] = "1" };
        var url = new UriBuilder(session.RealtimeUrl);
        var extra = string.Join("&", parameters.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        url.Query = string.IsNullOrEmpty(url.Query) || url.Query == "?" ? extra : url.Query.TrimStart('?') + (extra.Length > 0 ? "&" + extra : "");
        using var slot = await _core.EnterStreamAsync(RealtimeModel, _apiKey, cancellationToken).ConfigureAwait(false);
        return await Models.TollgateStreamingClient.RunAsync(url.Uri, audio, null, onMessage, 32 * 1024, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a job's status once (<c>GET /api_service/job_status/{job_id}</c>).</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>job_not_found</c> (also for another account's job).</exception>
    public async Task<PlatformJobStatus> GetJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        (await ReadStatusAsync(jobId, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>
    /// Polls a job until it is <c>completed</c> or <c>failed</c>: every <see cref="TollgateClientOptions.PollInterval"/>
    /// (3 s) plus up to <see cref="TollgateClientOptions.PollJitter"/> (1 s), or the server's longer hint.
    /// </summary>
    /// <param name="jobId">The job.</param>
    /// <param name="progress">Told every status read; default none.</param>
    /// <param name="cancellationToken">Stops waiting (the job goes on on the server).</param>
    /// <returns>The final status; a failed job is returned, not thrown (see <see cref="PlatformJobStatus.Error"/>).</returns>
    public Task<PlatformJobStatus> WaitForJobAsync(string jobId, IProgress<PlatformJobStatus>? progress = null, CancellationToken cancellationToken = default) =>
        _poller.UntilFinalAsync(ct => ReadStatusAsync(jobId, ct), progress, cancellationToken);

    private async Task<Poller.Reading<PlatformJobStatus>> ReadStatusAsync(string jobId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        using var request = Request(HttpMethod.Get, "api_service/job_status/" + Uri.EscapeDataString(jobId));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _core.SendAsync(request, ct).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var status = await System.Text.Json.JsonSerializer.DeserializeAsync(body, PlatformJsonContext.Default.PlatformJobStatus, ct).ConfigureAwait(false)
            ?? throw new System.Text.Json.JsonException("job_status answered null.");
        TimeSpan? hint = status.RetryAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : ApiErrors.RetryAfter(response, _core.Time);
        return new(status, status.IsFinal, hint);
    }

    private async Task<PlatformSubmission> UploadAsync(Stream audio, string fileName, PlatformFlags? flags, string? jobId, bool? finalize, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        using var content = new MultipartFormDataContent();
        var extension = Path.GetExtension(fileName).TrimStart('.').ToLowerInvariant();
        content.Add(new StringContent(extension == "ogg" ? "opus" : extension), "file_extension");
        content.Add(new StringContent(Path.GetFileName(fileName)), "filename");
        if (jobId is null)
        {
            content.Add(new StringContent((flags ?? new()).ToJson()), "flags");
        }
        else
        {
            content.Add(new StringContent(jobId), "job_id");
        }
        if (finalize is { } f)
        {
            content.Add(new StringContent(f ? "true" : "false"), "finalize_job");
        }
        var part = new LeaveOpenStreamContent(audio);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "file", Path.GetFileName(fileName));
        using var request = Request(HttpMethod.Post, "api_service");
        request.Content = content;
        request.Options.Set(Models.TollgateResilienceExtensions.NotReplayable, !audio.CanSeek);
        return await _core.ReadAsync(request, PlatformJsonContext.Default.PlatformSubmission, ct).ConfigureAwait(false);
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, _core.Url(path));
        request.Headers.Add("accountuuid", _accountId);
        request.Headers.Add("apikey", _apiKey);
        return request;
    }

    private static ClientCore Build(TollgateClientOptions options, ref TollgateClientBehavior? behavior, HttpMessageHandler transport)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        Required(options.ApiKey, "ApiKey");
        Required(options.AccountId, "AccountId");
        behavior ??= new TollgateClientBehavior(options);
        return ClientCore.Create(options, behavior, transport);
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value)
            ? throw new ArgumentException($"Invalid TollgateClientOptions: {name} is required by the Platform API client.", "options")
            : value;

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it.</summary>
    public void Dispose() => _core.Dispose();
}
