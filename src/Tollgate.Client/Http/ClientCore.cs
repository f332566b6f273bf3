using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Tollgate.Client.Behavior;
using Tollgate.Client.Models;
using Addresses = Tollgate.Client.Http.BaseAddress;

namespace Tollgate.Client.Http;

/// <summary>What every typed client is built on: its HTTP client (owned or not), base address, clock and behaviour.</summary>
internal sealed class ClientCore : IDisposable
{
    private readonly bool _owns;

    public ClientCore(HttpClient http, bool owns, TimeProvider time, TollgateClientBehavior? behavior)
    {
        Http = http;
        _owns = owns;
        BaseAddress = Addresses.Normalize(http.BaseAddress, "httpClient");
        Time = time;
        Behavior = behavior;
    }

    public HttpClient Http { get; }

    public Uri BaseAddress { get; }

    public TimeProvider Time { get; }

    public TollgateClientBehavior? Behavior { get; }

    /// <summary>An owned <see cref="HttpClient"/> whose handler runs <paramref name="behavior"/>'s strategies over <paramref name="transport"/>.</summary>
    public static ClientCore Create(TollgateClientOptions options, TollgateClientBehavior behavior, HttpMessageHandler transport)
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>().AddTollgateBehavior(behavior);
        if (options.RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            pipeline.AddTimeout(options.RequestTimeout);
        }
        var http = new HttpClient(new ResilienceHandler(pipeline.Build()) { InnerHandler = transport })
        {
            BaseAddress = BaseAddressOf(options),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        return new ClientCore(http, owns: true, behavior.Time, behavior);
    }

    public static Uri BaseAddressOf(TollgateClientOptions options) =>
        Addresses.Normalize(options.BaseAddress, nameof(options.BaseAddress));

    public Uri Url(string relative) => Addresses.Combine(BaseAddress, relative);

    /// <summary>The key's concurrency per model from <c>GET /v1/me</c> (<c>Authorization: Api-Key</c>), or null when it lists none.</summary>
    public async Task<IReadOnlyDictionary<string, int>?> ReadKeyLimitsAsync(string apiKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url("v1/me"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Api-Key", apiKey);
        var account = await ReadAsync(request, Dubbing.DubbingJsonContext.Default.AccountLimits, ct).ConfigureAwait(false);
        return account.Models?.ToDictionary(m => m.Key, m => m.Value.Concurrency, StringComparer.Ordinal);
    }

    /// <summary>
    /// Sizes <paramref name="model"/>'s gate before its first request when it is still probing: from the account answer
    /// (<see cref="TollgateClientOptions.LearnConcurrencyFromAccount"/>), once per behaviour.
    /// </summary>
    public async Task LearnConcurrencyAsync(string model, string apiKey, CancellationToken ct)
    {
        if (Behavior is { Options.LearnConcurrencyFromAccount: true } behavior && behavior.Gate(model).Source == ConcurrencyLimitSource.Probing)
        {
            await behavior.LearnFromAccountAsync(token => ReadKeyLimitsAsync(apiKey, token), ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A slot of <paramref name="model"/>'s gate for a stream's lifetime (dispose it when the stream has closed), or null
    /// without a behaviour. A stream's answer carries no limit to learn from: a gate still probing after the account
    /// read takes <see cref="TollgateClientOptions.DefaultConcurrency"/>.
    /// </summary>
    public async Task<IDisposable?> EnterStreamAsync(string model, string apiKey, CancellationToken ct)
    {
        if (Behavior is not { } behavior)
        {
            return null;
        }
        await LearnConcurrencyAsync(model, apiKey, ct).ConfigureAwait(false);
        var gate = behavior.Gate(model);
        if (gate.Source == ConcurrencyLimitSource.Probing)
        {
            gate.Resize(behavior.Options.DefaultConcurrency, ConcurrencyLimitSource.Default);
        }
        var started = behavior.Time.GetTimestamp();
        var slot = await gate.EnterAsync(ct).ConfigureAwait(false);
        behavior.Statistics.Waited(TollgateClientMetrics.GateReason, behavior.Time.GetElapsedTime(started));
        return slot;
    }

    /// <summary>Sends, and raises the typed exception of an error answer (the answer is then disposed).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        try
        {
            await ApiErrors.ThrowIfErrorAsync(response, Time, ct).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task<T> ReadAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, ct).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync(body, type, ct).ConfigureAwait(false)
            ?? throw new JsonException($"{request.RequestUri} answered null.");
    }

    public async Task<JsonDocument> ReadDocumentAsync(HttpRequestMessage request, CancellationToken ct)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, ct).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(body, cancellationToken: ct).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_owns)
        {
            Http.Dispose();
        }
    }
}

/// <summary>A stream part that leaves the caller's stream open when the request is disposed.</summary>
internal sealed class LeaveOpenStreamContent : StreamContent
{
    public LeaveOpenStreamContent(Stream stream)
        : base(stream)
    {
        CanRewind = stream.CanSeek;
    }

    /// <summary>Whether the part can be sent again (its stream rewound).</summary>
    public bool CanRewind { get; }

    protected override void Dispose(bool disposing)
    {
        // StreamContent would dispose the stream; it belongs to the caller.
    }
}
