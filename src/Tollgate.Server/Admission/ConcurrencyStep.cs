using System.Globalization;
using Microsoft.Extensions.Options;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Observability;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 4: a concurrency lease on the caller's (organization, model) pool, held by the request's
/// <see cref="MeteredCall"/> until it settles — before the response's last byte or the WebSocket's close frame, however
/// the request ends. Over the key's limit the request is refused at once (DESIGN 3.2); nothing waits.
/// </summary>
internal sealed class ConcurrencyStep(ILeaseTable leases, AudioQuota quota, TollgateMetrics metrics, IOptions<LeaseOptions> options, RateLimitHeaders headers)
    : IAdmissionStep
{
    /// <summary>The <c>Retry-After</c> hint: a slot usually frees within a request's lifetime.</summary>
    internal const int RetryAfterSeconds = 1;

    private readonly TimeSpan _ttl = options.Value.TtlValue;

    public string Name => "tollgate.admission.lease";

    public ValueTask<Rejection?> AdmitAsync(HttpContext context, AdmissionFeature feature)
    {
        if (!feature.Metadata.Metered)
        {
            return default;
        }
        var pool = new PoolKey(feature.Principal!.OrgId, feature.Model!.Name);
        var pending = leases.TryAcquireAsync(pool, feature.Limits!.Concurrency, _ttl, context.RequestAborted);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<Rejection?>(Judge(context, feature, pending.Result))
            : JudgeAsync(context, feature, pending);
    }

    private async ValueTask<Rejection?> JudgeAsync(HttpContext context, AdmissionFeature feature, ValueTask<LeaseAcquisition> pending) =>
        Judge(context, feature, await pending.ConfigureAwait(false));

    private Rejection? Judge(HttpContext context, AdmissionFeature feature, LeaseAcquisition acquisition)
    {
        var model = feature.Model!;
        if (feature.Surface == Surface.Models)
        {
            // The IETF fields' concurrent-requests policy (when Tollgate:RateLimits:Headers asks for them).
            headers.WriteConcurrency(context.Response.Headers, feature.Limits!.Concurrency, acquisition.Held);
        }
        if (!acquisition.Acquired)
        {
            return new Rejection(StatusCodes.Status429TooManyRequests, CloseCodes.LimitExceeded, ErrorCodes.ConcurrencyLimit,
                string.Create(CultureInfo.InvariantCulture,
                    $"Concurrency limit reached: {feature.Limits!.Concurrency} {model.Name} requests are already in flight for this organization. Retry when one completes."),
                RetryAfterSeconds);
        }
        metrics.LeaseAcquired(model.Name);
        var principal = feature.Principal!;
        feature.Call = new MeteredCall(quota, metrics, principal, quota.Scope(principal, model.Name, feature.Limits!), Ids.NewOrdered("req"),
            acquisition.Lease, feature.IsWebSocket ? ChargePolicy.Accepted : ChargePolicy.OnSuccess);
        return null;
    }
}
