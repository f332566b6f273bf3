using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Server.Http;

namespace Tollgate.Server.WebConsole;

/// <summary>One model's requests in flight right now against the concurrency limit of the organization's most generous active key.</summary>
internal sealed record LiveModelDto(string Model, int InFlight, int ConcurrencyLimit);

internal sealed record LiveDto(string OrgId, DateTimeOffset At, IReadOnlyList<LiveModelDto> Models);

/// <summary>
/// The in-flight figures the usage page shows and refreshes every second from <c>/console/api/orgs/{orgId}/live</c>
/// (read from the lease table, the same count the concurrency step admits against).
/// </summary>
internal static class ConsoleLive
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(ConsolePaths.Root + "/api/orgs/{orgId}/live", async (string orgId, HttpContext http, IIdentityStore store, ILeaseTable leases,
                TimeProvider time, CancellationToken ct) =>
            {
                if (ConsoleUser.From(http.User) is not { } user || !user.MaySee(orgId))
                {
                    return ApiError.Result(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, $"This session does not administer organization {orgId}.");
                }
                http.Response.Headers.CacheControl = "no-store";
                return await ReadAsync(orgId, store, leases, time, ct) is { } live
                    ? Results.Json(live)
                    : ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No organization {orgId}.");
            })
            .RequireAuthorization(ConsoleAuth.Policy).ExcludeFromDescription();

    public static async Task<LiveDto?> ReadAsync(string orgId, IIdentityStore store, ILeaseTable leases, TimeProvider time, CancellationToken ct)
    {
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var limits = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in await store.ListKeysAsync(orgId, ct))
        {
            if (key.IsRevoked || key.IsExpiredAt(now))
            {
                continue;
            }
            foreach (var (model, l) in key.Models)
            {
                limits[model] = Math.Max(limits.GetValueOrDefault(model), l.Concurrency);
            }
        }
        var rows = new List<LiveModelDto>(limits.Count);
        foreach (var (model, limit) in limits)
        {
            rows.Add(new LiveModelDto(model, await leases.CountAsync(new PoolKey(orgId, model), ct), limit));
        }
        return new LiveDto(orgId, now, rows);
    }
}
