using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using Tollgate.Client.Behavior;
using Tollgate.Client.Http;

namespace Tollgate.Client.Dubbing;

/// <summary>
/// The Dubbing API (<c>/v1/...</c>, <c>Authorization: Api-Key &lt;key&gt;</c>): the account and its credits, the voice
/// library with paging, custom voices, and dubs through their workflow (create → preprocess → generate → wait →
/// download, or all at once with <see cref="DubAsync"/>). Status polling is never faster than every 3 s per dub or
/// voice, with jitter; requests are paced by the per-user rate windows the answers describe.
/// </summary>
/// <remarks>Thread-safe. Out-of-order calls surface as <see cref="TollgateApiException"/> 409 (<c>not_preprocessed</c>,
/// <c>already_generated</c>, <c>not_ready</c>…); too few credits as <see cref="TollgateQuotaExceededException"/> (402
/// <c>insufficient_credits</c>, never retried).</remarks>
public sealed class TollgateDubbingClient : IDisposable
{
    private readonly ClientCore _core;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly Poller _poller;

    /// <summary>Creates a client with its own <see cref="HttpClient"/> and the SDK's behaviour (<see cref="TollgateClientOptions.BaseAddress"/> and <see cref="TollgateClientOptions.ApiKey"/> required).</summary>
    /// <param name="options">The options; copied and checked.</param>
    /// <param name="behavior">The state to share with other clients of the same key; default a new one.</param>
    public TollgateDubbingClient(TollgateClientOptions options, TollgateClientBehavior? behavior = null)
        : this(options, behavior, new SocketsHttpHandler())
    {
    }

    /// <summary>Creates a client over an <see cref="HttpClient"/> you own (its handlers decide retries); not disposed by this client.</summary>
    /// <param name="httpClient">Its <see cref="HttpClient.BaseAddress"/> is the server's root.</param>
    /// <param name="apiKey">The API key.</param>
    /// <param name="options">Polling settings; default <see cref="TollgateClientOptions"/>'s defaults.</param>
    public TollgateDubbingClient(HttpClient httpClient, string apiKey, TollgateClientOptions? options = null)
        : this(new ClientCore(httpClient ?? throw new ArgumentNullException(nameof(httpClient)), owns: false, TimeProvider.System, null), apiKey, options ?? new())
    {
    }

    /// <summary>As <see cref="TollgateDubbingClient(TollgateClientOptions, TollgateClientBehavior?)"/>, over your own primary handler (a proxy, a custom <see cref="SocketsHttpHandler"/>).</summary>
    /// <param name="options">The options; copied and checked.</param>
    /// <param name="behavior">The state to share with other clients of the same key; null for a new one.</param>
    /// <param name="primaryHandler">The transport under the SDK's behaviour; disposed with this client.</param>
    public TollgateDubbingClient(TollgateClientOptions options, TollgateClientBehavior? behavior, HttpMessageHandler primaryHandler)
        : this(Build(options, behavior, primaryHandler), options.ApiKey!, options)
    {
    }

    internal TollgateDubbingClient(HttpClient httpClient, TollgateClientBehavior behavior)
        : this(new ClientCore(httpClient, owns: false, behavior.Time, behavior), behavior.Options.ApiKey!, behavior.Options)
    {
    }

    private TollgateDubbingClient(ClientCore core, string apiKey, TollgateClientOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        _core = core;
        _authorization = new AuthenticationHeaderValue("Api-Key", apiKey);
        _poller = new Poller(options, core.Time, core.Behavior?.Statistics);
    }

    /// <summary>The behaviour this client runs; null over a foreign <see cref="HttpClient"/>.</summary>
    public TollgateClientBehavior? Behavior => _core.Behavior;

    /// <summary>The caller's account and the organization's credits (<c>GET /v1/me</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DubbingAccount> GetAccountAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(HttpMethod.Get, "v1/me", null, DubbingJsonContext.Default.DubbingAccount, cancellationToken);

    /// <summary>One page of the voice library (<c>GET /v1/voices</c>): stock voices and the caller's ready custom ones.</summary>
    /// <param name="query">Filters; default none.</param>
    /// <param name="cursor">The previous page's <see cref="DubbingVoicePage.NextCursor"/>; default the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DubbingVoicePage> ListVoicesAsync(DubbingVoiceQuery? query = null, string? cursor = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parameters.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }
        Add("search", query?.Search);
        Add("genres", query?.Genres is { Count: > 0 } g ? string.Join(',', g) : null);
        Add("languages", query?.Languages is { Count: > 0 } l ? string.Join(',', l) : null);
        Add("styles", query?.Styles is { Count: > 0 } s ? string.Join(',', s) : null);
        Add("limit", query?.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("cursor", cursor);
        var path = parameters.Count == 0 ? "v1/voices" : "v1/voices?" + string.Join('&', parameters);
        return ReadAsync(HttpMethod.Get, path, null, DubbingJsonContext.Default.DubbingVoicePage, cancellationToken);
    }

    /// <summary>Every voice matching <paramref name="query"/>, page after page (one request per page, paced like any other).</summary>
    /// <param name="query">Filters; default none.</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    public async IAsyncEnumerable<DubbingVoice> ListAllVoicesAsync(DubbingVoiceQuery? query = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await ListVoicesAsync(query, cursor, cancellationToken).ConfigureAwait(false);
            foreach (var voice in page.Voices)
            {
                yield return voice;
            }
            cursor = page.HasMore ? page.NextCursor : null;
        }
        while (cursor is not null);
    }

    /// <summary>Creates a custom voice (<c>POST /v1/me/voices</c>); train it with <see cref="CloneVoiceAsync"/>.</summary>
    /// <param name="voice">Its name, language and optional details.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DubbingVoice> CreateVoiceAsync(NewDubbingVoice voice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(voice);
        var body = JsonContent.Create(new CreateVoiceBody(voice.Name, voice.Language, voice.Genre, voice.Style, voice.Description),
            DubbingJsonContext.Default.CreateVoiceBody);
        return ReadAsync(HttpMethod.Post, "v1/me/voices", body, DubbingJsonContext.Default.DubbingVoice, cancellationToken);
    }

    /// <summary>One of the caller's custom voices (<c>GET /v1/me/voices/{voiceId}</c>).</summary>
    /// <param name="voiceId">The voice.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DubbingVoice> GetVoiceAsync(string voiceId, CancellationToken cancellationToken = default) =>
        ReadAsync(HttpMethod.Get, "v1/me/voices/" + Segment(voiceId), null, DubbingJsonContext.Default.DubbingVoice, cancellationToken);

    /// <summary>Starts training a custom voice from a sample (<c>POST /v1/me/voices/{voiceId}/clone</c>, multipart <c>file</c>, at least 1 s).</summary>
    /// <param name="voiceId">The voice.</param>
    /// <param name="sample">The sample audio (read, not disposed).</param>
    /// <param name="fileName">Its name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<DubbingVoice> CloneVoiceAsync(string voiceId, Stream sample, string fileName, CancellationToken cancellationToken = default) =>
        ReadAsync(HttpMethod.Post, $"v1/me/voices/{Segment(voiceId)}/clone", FilePart(sample, fileName), DubbingJsonContext.Default.DubbingVoice, cancellationToken);

    /// <summary>Polls a custom voice until it is <c>ready</c> or <c>error</c>, no faster than every 3 s plus jitter.</summary>
    /// <param name="voiceId">The voice.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<DubbingVoice> WaitForVoiceAsync(string voiceId, CancellationToken cancellationToken = default) =>
        _poller.UntilFinalAsync(async ct =>
        {
            var voice = await GetVoiceAsync(voiceId, ct).ConfigureAwait(false);
            return new Poller.Reading<DubbingVoice>(voice, voice.IsFinal, null);
        }, null, cancellationToken);

    /// <summary>Creates a dub from a file (<c>POST /v1/me/dubs</c>, multipart <c>file</c> + fields); it is then <c>new</c>.</summary>
    /// <param name="audio">The input (read, not disposed).</param>
    /// <param name="fileName">Its name.</param>
    /// <param name="dub">The target language and optional details.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Dub> CreateDubAsync(Stream audio, string fileName, NewDub dub, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dub);
        var content = FilePart(audio, fileName);
        content.Add(new StringContent(dub.TargetLanguage), "targetLanguage");
        if (dub.SourceLanguage is not null) content.Add(new StringContent(dub.SourceLanguage), "sourceLanguage");
        if (dub.VoiceId is not null) content.Add(new StringContent(dub.VoiceId), "voiceId");
        if (dub.Name is not null) content.Add(new StringContent(dub.Name), "name");
        return ReadAsync(HttpMethod.Post, "v1/me/dubs", content, DubbingJsonContext.Default.Dub, cancellationToken);
    }

    /// <summary>Starts preprocessing (<c>POST /v1/me/dubs/{dubId}/preprocess</c>): the input is measured and priced.</summary>
    /// <param name="dubId">The dub.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Dub> PreprocessAsync(string dubId, CancellationToken cancellationToken = default) =>
        ReadAsync(HttpMethod.Post, $"v1/me/dubs/{Segment(dubId)}/preprocess", null, DubbingJsonContext.Default.Dub, cancellationToken);

    /// <summary>Starts generating (<c>POST /v1/me/dubs/{dubId}/generate</c>): its <c>requiredCredits</c> are charged.</summary>
    /// <param name="dubId">The dub, preprocessed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateQuotaExceededException">402 <c>insufficient_credits</c>.</exception>
    public Task<Dub> GenerateAsync(string dubId, CancellationToken cancellationToken = default) =>
        ReadAsync(HttpMethod.Post, $"v1/me/dubs/{Segment(dubId)}/generate", null, DubbingJsonContext.Default.Dub, cancellationToken);

    /// <summary>A dub's status (<c>GET /v1/me/dubs/{dubId}</c>).</summary>
    /// <param name="dubId">The dub.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Dub> GetDubAsync(string dubId, CancellationToken cancellationToken = default) =>
        ReadAsync(HttpMethod.Get, "v1/me/dubs/" + Segment(dubId), null, DubbingJsonContext.Default.Dub, cancellationToken);

    /// <summary>
    /// Polls a dub, no faster than every 3 s plus jitter, until its status is <paramref name="status"/> or a later one
    /// (<c>done</c> ends every wait) or <c>error</c>.
    /// </summary>
    /// <param name="dubId">The dub.</param>
    /// <param name="status"><c>preprocessed</c> (after <see cref="PreprocessAsync"/>) or <c>done</c> (after <see cref="GenerateAsync"/>); default <c>done</c>.</param>
    /// <param name="progress">Told every status read; default none.</param>
    /// <param name="cancellationToken">Stops waiting (the dub goes on on the server).</param>
    /// <returns>The dub as last read; one in <c>error</c> is returned, not thrown.</returns>
    public Task<Dub> WaitForDubAsync(string dubId, string status = "done", IProgress<Dub>? progress = null, CancellationToken cancellationToken = default) =>
        WaitForDubAsync(dubId, status, progress, waitFirst: false, cancellationToken);

    private Task<Dub> WaitForDubAsync(string dubId, string status, IProgress<Dub>? progress, bool waitFirst, CancellationToken cancellationToken)
    {
        var target = Stage(status);
        if (target < 0)
        {
            throw new ArgumentException($"'{status}' is not a dub status to wait for; use preprocessed or done.", nameof(status));
        }
        return _poller.UntilFinalAsync(async ct =>
        {
            var dub = await GetDubAsync(dubId, ct).ConfigureAwait(false);
            return new Poller.Reading<Dub>(dub, dub.Status == "error" || Stage(dub.Status) >= target, null);
        }, progress, cancellationToken, waitFirst);
    }

    /// <summary>Downloads a done dub's result (<c>GET /v1/me/dubs/{dubId}/result</c>, <c>audio/wav</c>) into <paramref name="destination"/>.</summary>
    /// <param name="dubId">The dub, done.</param>
    /// <param name="destination">Where the bytes go (written from its position, not disposed).</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The bytes written.</returns>
    /// <exception cref="TollgateApiException">409 <c>not_ready</c> before the dub is done.</exception>
    public async Task<long> DownloadAsync(string dubId, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var request = Request(HttpMethod.Get, $"v1/me/dubs/{Segment(dubId)}/result");
        using var response = await _core.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        long copied = 0;
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            copied += read;
        }
        return copied;
    }

    /// <summary>
    /// The whole workflow for one file: create, preprocess, wait until preprocessed, generate, wait until done, download
    /// the result into <paramref name="destination"/>.
    /// </summary>
    /// <param name="audio">The input (read, not disposed).</param>
    /// <param name="fileName">Its name.</param>
    /// <param name="dub">The target language and optional details.</param>
    /// <param name="destination">Where the dubbed audio goes.</param>
    /// <param name="progress">Told each state the dub is seen in; default none.</param>
    /// <param name="cancellationToken">Stops the workflow (a dub already generating goes on on the server).</param>
    /// <returns>The dub once done.</returns>
    /// <exception cref="TollgateDubFailedException">The dub ended in <c>error</c> (its credits refunded).</exception>
    /// <exception cref="TollgateQuotaExceededException">The organization has too few credits left.</exception>
    public async Task<Dub> DubAsync(Stream audio, string fileName, NewDub dub, Stream destination, IProgress<Dub>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var created = await CreateDubAsync(audio, fileName, dub, cancellationToken).ConfigureAwait(false);
        progress?.Report(created);
        return await ContinueDubAsync(created, destination, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes a dub from wherever it is to done and downloaded: preprocesses a <c>new</c> one, generates a
    /// <c>preprocessed</c> one, waits for one in progress (for resuming a workflow that was stopped).
    /// </summary>
    /// <param name="dub">The dub as last read.</param>
    /// <param name="destination">Where the dubbed audio goes.</param>
    /// <param name="progress">Told each state the dub is seen in; default none.</param>
    /// <param name="cancellationToken">Stops the workflow.</param>
    /// <exception cref="TollgateDubFailedException">The dub ended in <c>error</c>.</exception>
    public async Task<Dub> ContinueDubAsync(Dub dub, Stream destination, IProgress<Dub>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dub);
        var current = dub;
        if (current.Status == "new")
        {
            current = await PreprocessAsync(current.DubId, cancellationToken).ConfigureAwait(false);
            progress?.Report(current);
        }
        if (Stage(current.Status) < Stage("preprocessed") && current.Status != "error")
        {
            // The POST's answer was a status read: the next one is a poll interval later.
            current = await WaitForDubAsync(current.DubId, "preprocessed", progress, waitFirst: true, cancellationToken).ConfigureAwait(false);
        }
        if (current.Status == "preprocessed")
        {
            current = await GenerateAsync(current.DubId, cancellationToken).ConfigureAwait(false);
            progress?.Report(current);
        }
        if (current.Status != "done" && current.Status != "error")
        {
            current = await WaitForDubAsync(current.DubId, "done", progress, waitFirst: true, cancellationToken).ConfigureAwait(false);
        }
        if (current.Status == "error")
        {
            throw new TollgateDubFailedException(current);
        }
        await DownloadAsync(current.DubId, destination, cancellationToken).ConfigureAwait(false);
        return current;
    }

    /// <summary>A status's place in the lifecycle (-1 for error or an unknown one).</summary>
    private static int Stage(string status) => status switch
    {
        "new" => 0,
        "preprocessing" => 1,
        "preprocessed" => 2,
        "queued" => 3,
        "starting" => 4,
        "processing" => 5,
        "finalizing" => 6,
        "done" => 7,
        _ => -1,
    };

    private static MultipartFormDataContent FilePart(Stream audio, string fileName)
    {
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        var content = new MultipartFormDataContent();
        var part = new LeaveOpenStreamContent(audio);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "file", Path.GetFileName(fileName));
        return content;
    }

    private static string Segment(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return Uri.EscapeDataString(id);
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, _core.Url(path));
        request.Headers.Authorization = _authorization;
        return request;
    }

    private async Task<T> ReadAsync<T>(HttpMethod method, string path, HttpContent? content, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var request = Request(method, path);
        request.Content = content;
        if (content is MultipartFormDataContent multipart)
        {
            // A file part is rewound for a retry only when its stream can seek.
            request.Options.Set(Models.TollgateResilienceExtensions.NotReplayable,
                multipart.OfType<StreamContent>().Any(p => p is LeaveOpenStreamContent { CanRewind: false }));
        }
        using (content)
        {
            return await _core.ReadAsync(request, type, ct).ConfigureAwait(false);
        }
    }

    private static ClientCore Build(TollgateClientOptions options, TollgateClientBehavior? behavior, HttpMessageHandler transport)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            throw new ArgumentException("Invalid TollgateClientOptions: ApiKey is required by the Dubbing API client.", nameof(options));
        }
        return ClientCore.Create(options, behavior ?? new TollgateClientBehavior(options), transport);
    }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it.</summary>
    public void Dispose() => _core.Dispose();
}
