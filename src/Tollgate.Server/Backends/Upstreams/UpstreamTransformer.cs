using Tollgate.Server.Admission;
using Yarp.ReverseProxy.Forwarder;

namespace Tollgate.Server.Backends.Upstreams;

/// <summary>
/// What Tollgate changes in a forwarded batch call, on top of YARP's copying (which leaves out hop-by-hop headers
/// and puts the current trace's <c>traceparent</c> in place of the client's): the caller's credentials are taken out
/// and the upstream's own key put in, the call carries an <c>X-Request-Id</c> (the client's, else the ledger's
/// request id); the upstream's <c>X-RateLimit-*</c>/<c>RateLimit*</c>/<c>Retry-After</c> give way to Tollgate's, and a
/// 5xx answer is not passed on (the caller answers 502 in the error shape, and nothing is charged).
/// </summary>
internal sealed class UpstreamTransformer(string? apiKey, string requestId) : HttpTransformer
{
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>The caller's credentials of every surface: none of them goes upstream.</summary>
    private static readonly string[] CallerCredentials = [Credentials.ModelsKeyHeader, "Authorization", Credentials.PlatformKeyHeader, Credentials.AccountHeader, "Cookie"];

    private static readonly string[] TollgateResponseHeaders =
    [
        RateLimitHeaders.LimitHeader, RateLimitHeaders.RemainingHeader, RateLimitHeaders.ResetHeader,
        RateLimitHeaders.PolicyHeader, RateLimitHeaders.RateLimitHeader, "Retry-After",
    ];

    /// <summary>The status of an upstream answer that was not passed on (a 5xx), or null.</summary>
    public int? RefusedStatus { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        foreach (var name in CallerCredentials)
        {
            proxyRequest.Headers.Remove(name);
        }
        if (!string.IsNullOrEmpty(apiKey))
        {
            proxyRequest.Headers.TryAddWithoutValidation(Credentials.ModelsKeyHeader, apiKey);
        }
        if (!proxyRequest.Headers.Contains(RequestIdHeader))
        {
            proxyRequest.Headers.TryAddWithoutValidation(RequestIdHeader, requestId);
        }
        // The batch endpoints take no query of their own; a caller's ?api_key= never travels on.
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, httpContext.Request.Path, QueryString.Empty);
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return new ValueTask<bool>(false);
        }
        if ((int)proxyResponse.StatusCode >= 500)
        {
            RefusedStatus = (int)proxyResponse.StatusCode;
            return new ValueTask<bool>(false);
        }
        foreach (var name in TollgateResponseHeaders)
        {
            proxyResponse.Headers.Remove(name);
        }
        return base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }
}
