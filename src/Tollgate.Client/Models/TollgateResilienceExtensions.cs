using System.Net;
using Polly;
using Polly.Retry;
using Tollgate.Client.Behavior;
using Tollgate.Client.Http;

namespace Tollgate.Client.Models;

/// <summary>
/// Tollgate's behaviour as Polly strategies, for an <see cref="HttpClient"/> you build yourself, e.g.
/// <c>services.AddHttpClient("tollgate").AddResilienceHandler("tollgate", b =&gt; b.AddTollgateBehavior(behavior))</c>.
/// The SDK's clients built from options, and <c>services.AddTollgateClient(…)</c>, already have it.
/// </summary>
public static class TollgateResilienceExtensions
{
    /// <summary>The request option the clients set when the body cannot be sent twice (a non-seekable stream).</summary>
    internal static readonly HttpRequestOptionsKey<bool> NotReplayable = new("Tollgate.NotReplayable");

    /// <summary>
    /// Adds, outermost first: the concurrency gate (requests of a metered model wait for one of the model's slots, held
    /// across the retries), the retry of 429s (<see cref="AddTollgateRetry"/>) and the pacing of each attempt by the
    /// request-rate windows the answers describe; every attempt and wait is counted in
    /// <see cref="TollgateClientBehavior.Statistics"/> and <see cref="TollgateClientMetrics"/>.
    /// </summary>
    /// <param name="builder">The pipeline; <paramref name="behavior"/>'s clock times the waits.</param>
    /// <param name="behavior">The shared state (gates, windows, totals) and options.</param>
    /// <returns>The same builder.</returns>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddTollgateBehavior(
        this ResiliencePipelineBuilder<HttpResponseMessage> builder, TollgateClientBehavior behavior)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(behavior);
        builder.TimeProvider = behavior.Time;
        return builder
            .AddStrategy(_ => new TollgateClientBehavior.GateStrategy(behavior), new StrategyOptions("TollgateConcurrencyGate"))
            .AddRetryCore(behavior.Options.Retry, behavior)
            .AddStrategy(_ => new TollgateClientBehavior.PacingStrategy(behavior), new StrategyOptions("TollgateRateWindowPacing"));
    }

    /// <summary>
    /// Adds a retry of 429 answers as <paramref name="options"/> describe (see <see cref="TollgateRetryOptions"/>): after
    /// the server's <c>Retry-After</c> at least, with full jitter over an exponential ceiling. Never retried: a request
    /// whose body cannot be replayed, a 429 <c>auth_throttled</c> (the key is wrong), and every other status.
    /// </summary>
    /// <param name="builder">The pipeline; its <see cref="ResiliencePipelineBuilderBase.TimeProvider"/> times the waits.</param>
    /// <param name="options">The policy; default <see cref="TollgateRetryOptions.Default"/>. With 0 retries nothing is added.</param>
    /// <returns>The same builder.</returns>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddTollgateRetry(
        this ResiliencePipelineBuilder<HttpResponseMessage> builder, TollgateRetryOptions? options = null) =>
        builder.AddRetryCore(options, behavior: null);

    internal static ResiliencePipelineBuilder<HttpResponseMessage> AddRetryCore(
        this ResiliencePipelineBuilder<HttpResponseMessage> builder, TollgateRetryOptions? options, TollgateClientBehavior? behavior)
    {
        ArgumentNullException.ThrowIfNull(builder);
        options ??= TollgateRetryOptions.Default;
        options.Validate();
        if (options.MaxRetryAttempts == 0)
        {
            return builder;
        }
        var time = builder.TimeProvider ?? TimeProvider.System;
        return builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            Name = "TollgateRetry",
            MaxRetryAttempts = options.MaxRetryAttempts,
            ShouldHandle = args => IsRetryableAsync(args.Outcome, args.Context.CancellationToken),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(NextDelay(args.Outcome.Result, args.AttemptNumber, options, time)),
            OnRetry = async args =>
            {
                if (behavior is not null && args.Outcome.Result is { } response)
                {
                    behavior.Statistics.TooManyRequests(absorbed: true, await TollgateClientBehavior.SafeCodeAsync(response, args.Context.CancellationToken).ConfigureAwait(false));
                    behavior.Statistics.Waited(TollgateClientMetrics.BackoffReason, args.RetryDelay);
                }
            },
        });
    }

    private static async ValueTask<bool> IsRetryableAsync(Outcome<HttpResponseMessage> outcome, CancellationToken ct)
    {
        if (outcome.Result is not { StatusCode: HttpStatusCode.TooManyRequests } response
            || (response.RequestMessage?.Options.TryGetValue(NotReplayable, out var notReplayable) == true && notReplayable))
        {
            return false;
        }
        var code = await TollgateClientBehavior.SafeCodeAsync(response, ct).ConfigureAwait(false);
        return !ApiErrors.IsFinal(response.StatusCode, code);
    }

    /// <summary>
    /// Full jitter over an exponential ceiling (retry <c>n</c> waits a random time up to <c>BaseDelay × 2ⁿ</c>), but never less
    /// than the server's <c>Retry-After</c>; never above <see cref="TollgateRetryOptions.MaxDelay"/>.
    /// </summary>
    internal static TimeSpan NextDelay(HttpResponseMessage? response, int attempt, TollgateRetryOptions options, TimeProvider time)
    {
        var ceiling = options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        var jitter = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(ceiling, options.MaxDelay.TotalMilliseconds));
        if (response is not null && ApiErrors.RetryAfter(response, time) is { } retryAfter && retryAfter > jitter)
        {
            jitter = retryAfter;
        }
        return jitter < options.MaxDelay ? jitter : options.MaxDelay;
    }

    private sealed class StrategyOptions : ResilienceStrategyOptions
    {
        public StrategyOptions(string name)
        {
            Name = name;
        }
    }
}
