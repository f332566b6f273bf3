using System.Globalization;
using Tollgate.RateLimiting;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 3: the request-rate windows of the caller's user (DESIGN 3.4). Every response of a surface that carries rules,
/// admitted or not, gets the <c>X-RateLimit-*</c> headers of the most restrictive rule; a full window answers 429
/// with <c>Retry-After</c> and names the rule.
/// </summary>
internal sealed class RateWindowStep(RequestDelegate next, RateLimitPolicy policy, IWindowCounter counter)
{
    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.Get<AdmissionFeature>();
        if (feature?.Principal is not { } principal)
        {
            return next(context);
        }
        var rules = policy.GetRules(SurfaceResolver.ConfigurationName(feature.Surface), feature.Operation);
        if (rules.IsEmpty)
        {
            return next(context);
        }
        var pending = counter.TryAcquireAsync(principal.UserId, rules, context.RequestAborted);
        return pending.IsCompletedSuccessfully ? Continue(context, pending.Result) : ContinueAsync(context, pending);
    }

    private async Task ContinueAsync(HttpContext context, ValueTask<WindowDecision> pending) =>
        await Continue(context, await pending);

    private Task Continue(HttpContext context, WindowDecision decision)
    {
        if (decision.HasRule)
        {
            var headers = context.Response.Headers;
            headers["X-RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
            headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
            headers["X-RateLimit-Reset"] = decision.ResetUnixSeconds.ToString(CultureInfo.InvariantCulture);
        }
        if (decision.Admitted)
        {
            return next(context);
        }
        var rule = decision.BlockingRule!;
        return new Rejection(StatusCodes.Status429TooManyRequests, CloseCodes.LimitExceeded, ErrorCodes.RateLimited,
            string.Create(CultureInfo.InvariantCulture,
                $"Rate limit '{rule.Name}' reached: {rule.Limit} requests per {rule.WindowText}. Retry after {decision.RetryAfterSeconds} s."),
            decision.RetryAfterSeconds).WriteAsync(context);
    }
}
