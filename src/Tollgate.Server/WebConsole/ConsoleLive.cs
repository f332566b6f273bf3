using Tollgate.Server.Admin.Insights;
using Tollgate.Server.Http;

namespace Tollgate.Server.WebConsole;

/// <summary>
/// The live figures the usage page refreshes every second from <c>/console/api/orgs/{orgId}/live</c>: the Admin API's
/// live state (<see cref="LiveStateQuery"/>: in flight per model, rate windows per user), behind the console's session
/// and its organization check instead of a bearer token.
/// </summary>
internal static class ConsoleLive
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(ConsolePaths.Root + "/api/orgs/{orgId}/live", async (string orgId, HttpContext http, LiveStateQuery live, CancellationToken ct) =>
            {
                if (ConsoleUser.From(http.User) is not { } user || !user.MaySee(orgId))
                {
                    return ApiError.Result(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, $"This session does not administer organization {orgId}.");
                }
                http.Response.Headers.CacheControl = "no-store";
                return await live.GetAsync(orgId, ct) is { } state
                    ? Results.Json(state)
                    : ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No organization {orgId}.");
            })
            .RequireAuthorization(ConsoleAuth.Policy).ExcludeFromDescription();
}
