using System.Security.Cryptography;
using System.Text;
using Tollgate.Identity;
using Tollgate.Platform;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Platform;

/// <summary>
/// Authentication of the realtime WebSocket (the URL a realtime submission hands out): its <c>token</c> query
/// parameter, never an API key. The token must be the job's (compared by hash, in constant time), unused, and the
/// job still waiting for its stream before its URL expires; the caller is then the key that submitted the job, judged
/// (entitlement, lease, quota) as that key. The token is spent by the endpoint once admission has let the stream in,
/// so a stream refused for concurrency can be retried with the same URL while it lasts.
/// </summary>
internal sealed class RealtimeTokens(IPlatformStore store, IIdentityStore identity, TimeProvider time)
{
    public const string TokenParameter = "token";
    public const string JobItem = "tollgate.platform.realtime-job";

    private static Rejection Refused(string detail) =>
        new(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, PlatformCodes.InvalidToken, detail);

    public async ValueTask<(Principal? Principal, Rejection? Refusal, bool Missing)> AuthenticateAsync(HttpContext context, CancellationToken ct)
    {
        var token = context.Request.Query[TokenParameter].ToString();
        var jobId = context.GetRouteValue("job_id") as string;
        if (string.IsNullOrEmpty(token) || string.IsNullOrEmpty(jobId))
        {
            return (null, new Rejection(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, ErrorCodes.MissingApiKey,
                "Missing token: connect to the realtime_url exactly as the submission answer gave it."), true);
        }
        var job = await store.GetJobAsync(jobId, ct);
        if (job is not { Submission: PlatformSubmission.Realtime, TokenHash: { } hash }
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hash), Encoding.ASCII.GetBytes(PlatformRequests.HashToken(token))))
        {
            return (null, Refused("This realtime URL is not valid."), false);
        }
        if (job.TokenUsedAt is not null)
        {
            return (null, Refused("This realtime URL has already been used: it is good for one connection. Submit a new realtime job."), false);
        }
        if (job.Status != PlatformJobStatus.Pending || job.ExpiresAt <= time.GetUtcNow())
        {
            return (null, Refused("This realtime URL has expired. Submit a new realtime job."), false);
        }
        var key = await identity.GetKeyAsync(job.KeyId, ct);
        if (key is null || key.IsRevoked || key.IsExpiredAt(time.GetUtcNow()))
        {
            return (null, new Rejection(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, ErrorCodes.RevokedApiKey,
                "The API key that opened this realtime job has been revoked."), false);
        }
        if (key.UserDisabledAt is not null)
        {
            return (null, new Rejection(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, ErrorCodes.UserDisabled,
                "The user of the API key that opened this realtime job is disabled."), false);
        }
        context.Items[JobItem] = job;
        return (key.Principal, null, false);
    }
}
