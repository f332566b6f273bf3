using System.Net;
using Polly;
using Polly.Retry;
using Tollgate.Client.Http;

namespace Tollgate.Client.Models;

/// <summary>
/// Tollgate's retry policy as a Polly strategy, for an <see cref="HttpClient"/> you build yourself, e.g.
/// <c>services.AddHttpClient("tollgate").AddResilienceHandler("tollgate", b =&gt; b.AddTollgateRetry())</c>.
/// <see cref="TollgateModelsClient"/>'s own <see cref="HttpClient"/> already has it.
/// </summary>
public static class TollgateResilienceExtensions
{
    /// <summary>The request option <see cref="TollgateModelsClient"/> sets when the body cannot be sent twice (a non-seekable stream).</summary>
    internal static readonly HttpRequestOptionsKey<bool> NotReplayable = new("Tollgate.NotReplayable");

    /// <summary>
    /// Adds a retry of 429 answers as <paramref name="options"/> describe (see <see cref="TollgateRetryOptions"/>).
    /// A request whose body cannot be replayed is not retried.
    /// </summary>
    /// <param name="builder">The pipeline; its <see cref="ResiliencePipelineBuilderBase.TimeProvider"/> times the waits.</param>
    /// <param name="options">The policy; default <see cref="TollgateRetryOptions.Default"/>. With 0 retries nothing is added.</param>
    /// <returns>The same builder.</returns>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddTollgateRetry(
        this ResiliencePipelineBuilder<HttpResponseMessage> builder, TollgateRetryOptions? options = null)
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
            ShouldHandle = static args => ValueTask.FromResult(IsRetryable(args.Outcome)),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(NextDelay(args.Outcome.Result, args.AttemptNumber, options, time)),
        });
    }

    private static bool IsRetryable(Outcome<HttpResponseMessage> outcome) =>
        outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } response
        && !(response.RequestMessage?.Options.TryGetValue(NotReplayable, out var notReplayable) == true && notReplayable);

    /// <summary>The server's <c>Retry-After</c> if any, else full jitter over an exponential ceiling; never above <see cref="TollgateRetryOptions.MaxDelay"/>.</summary>
    internal static TimeSpan NextDelay(HttpResponseMessage? response, int attempt, TollgateRetryOptions options, TimeProvider time)
    {
        if (response is not null && ApiErrors.RetryAfter(response, time) is { } retryAfter)
        {
            return retryAfter < options.MaxDelay ? retryAfter : options.MaxDelay;
        }
        var ceiling = options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(ceiling, options.MaxDelay.TotalMilliseconds));
    }
}
