using System.Globalization;
using Tollgate.Observability;
using Tollgate.RateLimiting;
using Tollgate.Server.Http;
using Tollgate.Threading;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 3: the request-rate windows of the caller's user (DESIGN 3.4). Every response of a surface that carries rules,
/// admitted or not, gets the <c>X-RateLimit-*</c> headers of the most restrictive rule; a full window answers 429
/// with <c>Retry-After</c> and names the rule.
/// </summary>
internal sealed class RateWindowStep(RateLimitPolicy policy, IWindowCounter counter, RateLimitHeaders headers, TollgateMetrics metrics) : IAdmissionStep
{
    public string Name => "tollgate.admission.rate_windows";

    public ValueTask<Rejection?> AdmitAsync(HttpContext context, AdmissionFeature feature)
    {
        var rules = policy.GetRules(feature.Metadata.SurfaceName, feature.Operation);
        if (rules.IsEmpty)
        {
            return default;
        }
        var pending = counter.TryAcquireAsync(feature.Principal!.UserId, rules, context.RequestAborted);
        // On a shared store (Redis) every request waits here: judged when the decision arrives, by a pooled continuation.
        return pending.IsCompletedSuccessfully
            ? new ValueTask<Rejection?>(Judge(context, feature, pending.Result))
            : PooledContinuation<WindowDecision, (RateWindowStep Step, HttpContext Context, AdmissionFeature Feature), Rejection?>.Start(
                pending, (this, context, feature), static (s, decision) => s.Step.Judge(s.Context, s.Feature, decision));
    }

    private Rejection? Judge(HttpContext context, AdmissionFeature feature, WindowDecision decision)
    {
        if (!decision.HasRule)
        {
            return null;
        }
        headers.Write(context.Response.Headers, decision);
        metrics.RateWindow(feature.Metadata.SurfaceName, (decision.BlockingRule ?? decision.Rule!).Name, decision.Admitted);
        if (decision.Admitted)
        {
            return null;
        }
        var rule = decision.BlockingRule!;
        return new Rejection(StatusCodes.Status429TooManyRequests, CloseCodes.LimitExceeded, ErrorCodes.RateLimited,
            string.Create(CultureInfo.InvariantCulture,
                $"Rate limit '{rule.Name}' reached: {rule.Limit} requests per {rule.WindowText}. Retry after {decision.RetryAfterSeconds} s."),
            decision.RetryAfterSeconds);
    }
}
