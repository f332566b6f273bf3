using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Polly;
using Tollgate.Client.Http;

namespace Tollgate.Client.Behavior;

/// <summary>
/// What the SDK's clients share to behave well toward one server and one key: a concurrency gate per model, the
/// request-rate windows as the answers describe them (one for safe requests, one for unsafe), and the running
/// <see cref="Statistics"/>. One instance serves every client built from the same options (the DI registration keeps
/// one per name); the strategies that use it are added to a pipeline by
/// <see cref="Models.TollgateResilienceExtensions.AddTollgateBehavior"/>.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public sealed class TollgateClientBehavior
{
    /// <summary>The IETF field that carries the Models API's concurrency pool: <c>"concurrency";q=5;qu="concurrent-requests"</c>.</summary>
    internal const string PolicyHeader = "RateLimit-Policy";

    private readonly ConcurrentDictionary<string, ConcurrencyGate> _gates = new(StringComparer.Ordinal);
    private readonly RateWindowPacer _safe;
    private readonly RateWindowPacer _unsafe;

    /// <summary>Creates the shared state for clients built from <paramref name="options"/>.</summary>
    /// <param name="options">The options (checked: an invalid one throws <see cref="ArgumentException"/>); copied.</param>
    /// <param name="timeProvider">The clock every wait is timed on; default <see cref="TimeProvider.System"/>.</param>
    public TollgateClientBehavior(TollgateClientOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate().Where(e => !e.StartsWith(nameof(TollgateClientOptions.BaseAddress), StringComparison.Ordinal)).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid TollgateClientOptions: " + string.Join(" ", errors), nameof(options));
        }
        Options = options.Clone();
        Time = timeProvider ?? TimeProvider.System;
        _safe = new RateWindowPacer(Time, Options.RateWindowJitter);
        _unsafe = new RateWindowPacer(Time, Options.RateWindowJitter);
    }

    /// <summary>The options this behaviour follows (a copy of the ones given).</summary>
    public TollgateClientOptions Options { get; }

    /// <summary>The clock every wait is timed on.</summary>
    public TimeProvider Time { get; }

    /// <summary>Running totals: requests, 429s received and absorbed, time waited.</summary>
    public TollgateClientStatistics Statistics { get; } = new();

    /// <summary>The gate's size for <paramref name="model"/> and where it came from (<c>(1, Probing)</c> before any answer).</summary>
    /// <param name="model">A metered model, e.g. <c>velma-2-stt-batch</c>.</param>
    public (int Limit, ConcurrencyLimitSource Source) ConcurrencyOf(string model)
    {
        var gate = Gate(model);
        return (gate.Limit, gate.Source);
    }

    /// <summary>How many requests of <paramref name="model"/> hold a slot of the gate now.</summary>
    /// <param name="model">A metered model.</param>
    public int InFlight(string model) => Gate(model).InFlight;

    /// <summary>
    /// Sizes <paramref name="model"/>'s gate, for example from the Admin API's usage answer (<c>concurrency_limit</c>);
    /// it then stays so (answers no longer resize it).
    /// </summary>
    /// <param name="model">A metered model.</param>
    /// <param name="limit">At least 1.</param>
    public void SetConcurrency(string model, int limit) => Gate(model).Resize(limit, ConcurrencyLimitSource.Configured);

    private readonly Lock _accountLock = new();
    private Task? _accountRead;

    /// <summary>
    /// Sizes the gates from the key's models as <paramref name="read"/> returns them (<c>GET /v1/me</c>), once per
    /// behaviour: the first caller reads, the others wait for that read. An answer that lists no limits, or any
    /// failure but a refused key, leaves the gates probing; a refused key is raised to every caller.
    /// </summary>
    internal Task LearnFromAccountAsync(Func<CancellationToken, Task<IReadOnlyDictionary<string, int>?>> read, CancellationToken ct)
    {
        Task pending;
        lock (_accountLock)
        {
            pending = _accountRead ??= ReadAccountAsync(read);
        }
        return pending.WaitAsync(ct);
    }

    private async Task ReadAccountAsync(Func<CancellationToken, Task<IReadOnlyDictionary<string, int>?>> read)
    {
        await Task.Yield();
        IReadOnlyDictionary<string, int>? limits;
        try
        {
            limits = await read(CancellationToken.None).ConfigureAwait(false);
        }
        catch (TollgateAuthenticationException)
        {
            throw;
        }
        catch (Exception ex) when (ex is TollgateApiException or HttpRequestException or IOException or System.Text.Json.JsonException or TaskCanceledException)
        {
            return;
        }
        foreach (var (model, limit) in limits ?? new Dictionary<string, int>())
        {
            if (limit >= 1)
            {
                Gate(model).Resize(limit, ConcurrencyLimitSource.Learned);
            }
        }
    }

    internal ConcurrencyGate Gate(string model) => _gates.GetOrAdd(model, _ => new ConcurrencyGate(Options.MaxConcurrency));

    internal RateWindowPacer Pacer(HttpMethod method) => method == HttpMethod.Get || method == HttpMethod.Head ? _safe : _unsafe;

    /// <summary>The safe and unsafe windows as last seen (tests, diagnostics).</summary>
    internal (RateWindowPacer Safe, RateWindowPacer Unsafe) Pacers => (_safe, _unsafe);

    /// <summary>Sizes a gate from an answer: the concurrency policy it names, else (while probing) the default.</summary>
    internal void Learn(ConcurrencyGate gate, HttpResponseMessage response)
    {
        if (ConcurrencyPolicy(response) is { } learned)
        {
            gate.Resize(learned, ConcurrencyLimitSource.Learned);
        }
        else if (gate.Source == ConcurrencyLimitSource.Probing)
        {
            gate.Resize(Options.DefaultConcurrency, ConcurrencyLimitSource.Default);
        }
    }

    /// <summary>The <c>q</c> of a <c>"concurrency"</c> member of <c>RateLimit-Policy</c> (a structured-field list, possibly over several lines).</summary>
    internal static int? ConcurrencyPolicy(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(PolicyHeader, out var lines))
        {
            return null;
        }
        foreach (var member in lines.SelectMany(l => l.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            var parts = member.Split(';', StringSplitOptions.TrimEntries);
            if (parts[0] != "\"concurrency\"")
            {
                continue;
            }
            foreach (var parameter in parts.Skip(1))
            {
                if (parameter.StartsWith("q=", StringComparison.Ordinal)
                    && int.TryParse(parameter.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var q) && q >= 1)
                {
                    return q;
                }
            }
        }
        return null;
    }

    /// <summary>The body's <c>code</c> of an error answer, read from a buffered copy (the body stays readable).</summary>
    internal static async ValueTask<string?> RefusalCodeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return null;
        }
        if (response.RequestMessage?.Options.TryGetValue(TollgateRequestOptions.RefusalCode, out var known) == true && known is not null
            && response.RequestMessage.Options.TryGetValue(TollgateRequestOptions.RefusalOf, out var of) && ReferenceEquals(of, response))
        {
            return known;
        }
        await response.Content.LoadIntoBufferAsync(ct).ConfigureAwait(false);
        var (code, _) = ApiErrors.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        if (response.RequestMessage is { } request)
        {
            request.Options.Set(TollgateRequestOptions.RefusalCode, code);
            request.Options.Set(TollgateRequestOptions.RefusalOf, response);
        }
        return code;
    }

    /// <summary>The body's code, or null when the body cannot be read.</summary>
    internal static async ValueTask<string?> SafeCodeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await RefusalCodeAsync(response, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The gate: at most the model's limit of metered requests in flight, across every retry of each.</summary>
    internal sealed class GateStrategy(TollgateClientBehavior behavior) : ResilienceStrategy<HttpResponseMessage>
    {
        protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
        {
            var outcome = await GatedAsync(callback, context, state).ConfigureAwait(false);
            if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } response)
            {
                // What the retries did not absorb reaches the caller.
                behavior.Statistics.TooManyRequests(absorbed: false, await SafeCodeAsync(response, context.CancellationToken).ConfigureAwait(false));
            }
            return outcome;
        }

        private async ValueTask<Outcome<HttpResponseMessage>> GatedAsync<TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
        {
            var request = context.GetRequestMessage();
            if (request is null || !request.Options.TryGetValue(TollgateRequestOptions.Model, out var model) || model is null)
            {
                return await callback(context, state).ConfigureAwait(false);
            }
            var gate = behavior.Gate(model);
            var started = behavior.Time.GetTimestamp();
            ConcurrencyGate.Slot slot;
            try
            {
                slot = await gate.EnterAsync(context.CancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex)
            {
                return Outcome.FromException<HttpResponseMessage>(ex);
            }
            using (slot)
            {
                behavior.Statistics.Waited(TollgateClientMetrics.GateReason, behavior.Time.GetElapsedTime(started));
                var outcome = await callback(context, state).ConfigureAwait(false);
                if (outcome.Result is { } response)
                {
                    behavior.Learn(gate, response);
                    try
                    {
                        // The server frees its slot before the answer's last byte: hold ours until we have that byte.
                        await response.Content.LoadIntoBufferAsync(context.CancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
                    {
                        response.Dispose();
                        return Outcome.FromException<HttpResponseMessage>(ex);
                    }
                }
                else if (gate.Source == ConcurrencyLimitSource.Probing && outcome.Exception is not OperationCanceledException)
                {
                    // No answer to learn from: go on with the default rather than one at a time forever.
                    gate.Resize(behavior.Options.DefaultConcurrency, ConcurrencyLimitSource.Default);
                }
                return outcome;
            }
        }
    }

    /// <summary>The pacer: each attempt waits its turn in the rate window; each answer updates it and is counted.</summary>
    internal sealed class PacingStrategy(TollgateClientBehavior behavior) : ResilienceStrategy<HttpResponseMessage>
    {
        protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
        {
            var request = context.GetRequestMessage();
            var method = request?.Method ?? HttpMethod.Get;
            var pacer = behavior.Pacer(method);
            RateWindowPacer.Turn turn = default;
            if (behavior.Options.PaceRateWindows)
            {
                try
                {
                    turn = await pacer.WaitTurnAsync(context.CancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex)
                {
                    return Outcome.FromException<HttpResponseMessage>(ex);
                }
                behavior.Statistics.Waited(TollgateClientMetrics.RateWindowReason, turn.Waited);
            }
            var outcome = await callback(context, state).ConfigureAwait(false);
            var response = outcome.Result;
            var code = response is { StatusCode: HttpStatusCode.TooManyRequests }
                ? await SafeCodeAsync(response, context.CancellationToken).ConfigureAwait(false)
                : null;
            if (behavior.Options.PaceRateWindows)
            {
                pacer.Observe(turn, response, code);
            }
            behavior.Statistics.Request(method.Method, response is null ? 0 : (int)response.StatusCode);
            return outcome;
        }
    }
}

/// <summary>Per-request settings the typed clients pass to the strategies.</summary>
internal static class TollgateRequestOptions
{
    /// <summary>The metered model a request uses: it then goes through that model's concurrency gate.</summary>
    public static readonly HttpRequestOptionsKey<string?> Model = new("Tollgate.Model");

    /// <summary>The <c>code</c> of the last error answer read (so it is parsed once).</summary>
    public static readonly HttpRequestOptionsKey<string?> RefusalCode = new("Tollgate.RefusalCode");

    /// <summary>The answer <see cref="RefusalCode"/> belongs to.</summary>
    public static readonly HttpRequestOptionsKey<HttpResponseMessage?> RefusalOf = new("Tollgate.RefusalOf");
}
