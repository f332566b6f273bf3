using System.Globalization;
using Tollgate.Limits;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 4: a concurrency lease on the caller's (organization, model) pool, held until the request ends however it
/// ends (completion, failure, timeout, the client going away) — for a WebSocket, the life of the connection. Over
/// the key's limit the request is refused at once (DESIGN 3.2); nothing waits.
/// </summary>
internal sealed class ConcurrencyStep(RequestDelegate next, ILeaseTable leases)
{
    /// <summary>The <c>Retry-After</c> hint: a slot usually frees within a request's lifetime.</summary>
    internal const int RetryAfterSeconds = 1;

    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.Get<AdmissionFeature>();
        if (feature is not { Metered: true, Model: { } model, Principal: { } principal, Limits: { } limits })
        {
            return next(context);
        }
        if (!leases.TryAcquire(new PoolKey(principal.OrgId, model.Name), limits.Concurrency, out var lease))
        {
            return new Rejection(StatusCodes.Status429TooManyRequests, CloseCodes.LimitExceeded, ErrorCodes.ConcurrencyLimit,
                string.Create(CultureInfo.InvariantCulture,
                    $"Concurrency limit reached: {limits.Concurrency} {model.Name} requests are already in flight for this organization. Retry when one completes."),
                RetryAfterSeconds).WriteAsync(context);
        }
        return RunAsync(context, lease);
    }

    private async Task RunAsync(HttpContext context, Lease lease)
    {
        try
        {
            await next(context);
        }
        finally
        {
            lease.Release();
        }
    }
}
