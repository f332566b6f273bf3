using Tollgate.Limits;
using Tollgate.Server.Http;
using Tollgate.Server.OpenApi;
using static Tollgate.Server.Admin.AdminResults;

namespace Tollgate.Server.Admin.Insights;

/// <summary>
/// The Admin API's read-only views of one organization for dashboards (the console): usage per day, live state,
/// recent rejections, recent jobs and dubs. Each endpoint is a thin shell over its query class, which the console
/// calls in-process.
/// </summary>
internal static class AdminInsightsApi
{
    public static RouteGroupBuilder MapAdminInsightsApi(this RouteGroupBuilder admin)
    {
        admin.MapGet("/orgs/{orgId}/usage/daily", GetDailyUsage).WithName("GetDailyUsage")
            .WithSummary("Audio per model per UTC day of a month (?month=YYYY-MM, default this month; every day present, zero-filled), with the month's total, the limit and the reset time.")
            .Produces<DailyUsageDto>().Refuses(400, 403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/live", GetLive).WithName("GetLiveState")
            .WithSummary("What is happening now, cheap enough to poll every second: per model the requests in flight against the concurrency limit, per user the request-rate windows (rule, limit, used, remaining, reset), read without counting a request.")
            .Produces<LiveStateDto>().Refuses(403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/rejections", (string orgId, string? hours, RejectionsQuery query, CancellationToken ct) => GetRejections(orgId, hours, query, ct))
            .WithName("GetRejections")
            .WithSummary("The requests admission refused (401, 403, 429, 503) in the last ?hours= UTC hours (1 to 168, default 24; the current hour included), by status and code, and per hour. All nodes' counts, up to 2 s behind.")
            .Produces<RejectionsDto>().Refuses(400, 403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/rejections", (string? hours, RejectionsQuery query, CancellationToken ct) => GetRejections(null, hours, query, ct))
            .WithName("GetUnattributedRejections")
            .WithSummary("As /admin/orgs/{orgId}/rejections, for the refused requests no key identified (missing, malformed or unknown keys); operator tokens only.")
            .Produces<RejectionsDto>().Refuses(400, 403).Scoped(AdminScope.Operator);
        admin.MapGet("/orgs/{orgId}/jobs", ListJobs).WithName("ListOrganizationJobs")
            .WithSummary("An organization's Platform API jobs with their status, newest first, a page at a time (?limit=, default 100, at most 1000; ?after= the previous page's next).")
            .Produces<PageDto<PlatformJobDto>>().Refuses(400, 403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/jobs/{jobId}", GetJob).WithName("GetOrganizationJob")
            .WithSummary("One Platform API job of an organization, with its files (another organization's job is 404).")
            .Produces<PlatformJobDto>().Refuses(403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/dubs", ListDubs).WithName("ListOrganizationDubs")
            .WithSummary("An organization's dubs with their status, newest first, a page at a time (?limit=, ?after=).")
            .Produces<PageDto<OrgDubDto>>().Refuses(400, 403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/dubs/{dubId}", GetDub).WithName("GetOrganizationDub")
            .WithSummary("One dub of an organization (another organization's dub is 404).")
            .Produces<OrgDubDto>().Refuses(403, 404).Scoped(AdminScope.Organization);
        return admin;
    }

    private static async Task<IResult> ListJobs(string orgId, string? limit, string? after, OrgActivityQuery query, CancellationToken ct)
    {
        if (TryReadLimit(limit, out var size) is { } bad)
        {
            return bad;
        }
        var (outcome, page) = await query.ListJobsAsync(orgId, size, after, ct);
        return Answer(outcome, page, orgId, after, "Platform job");
    }

    private static async Task<IResult> ListDubs(string orgId, string? limit, string? after, OrgActivityQuery query, CancellationToken ct)
    {
        if (TryReadLimit(limit, out var size) is { } bad)
        {
            return bad;
        }
        var (outcome, page) = await query.ListDubsAsync(orgId, size, after, ct);
        return Answer(outcome, page, orgId, after, "dub");
    }

    private static IResult Answer<T>(PageOutcome outcome, PageDto<T>? page, string orgId, string? after, string what) => outcome switch
    {
        PageOutcome.Ok => TypedResults.Ok(page),
        PageOutcome.NoOrganization => OrgNotFound(orgId),
        _ => UnknownCursor(after!, $"{what} of organization {orgId}"),
    };

    private static async Task<IResult> GetJob(string orgId, string jobId, OrgActivityQuery query, CancellationToken ct) =>
        await query.GetJobAsync(orgId, jobId, ct) is { } job
            ? TypedResults.Ok(job)
            : ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"Organization {orgId} has no Platform job {jobId}.");

    private static async Task<IResult> GetDub(string orgId, string dubId, OrgActivityQuery query, CancellationToken ct) =>
        await query.GetDubAsync(orgId, dubId, ct) is { } dub
            ? TypedResults.Ok(dub)
            : ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"Organization {orgId} has no dub {dubId}.");

    private static async Task<IResult> GetRejections(string? orgId, string? hours, RejectionsQuery query, CancellationToken ct)
    {
        var span = RejectionsQuery.DefaultHours;
        if (hours is not null && (!int.TryParse(hours, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out span)
            || span is < 1 or > RejectionsQuery.MaxHours))
        {
            return Invalid($"Invalid hours='{hours}'. Expected a whole number from 1 to {RejectionsQuery.MaxHours} (default {RejectionsQuery.DefaultHours}).");
        }
        return await query.GetAsync(orgId, span, ct) is { } counts ? TypedResults.Ok(counts) : OrgNotFound(orgId!);
    }

    private static async Task<IResult> GetLive(string orgId, LiveStateQuery query, CancellationToken ct) =>
        await query.GetAsync(orgId, ct) is { } live ? TypedResults.Ok(live) : OrgNotFound(orgId);

    private static async Task<IResult> GetDailyUsage(string orgId, string? month, DailyUsageQuery query, TimeProvider time, CancellationToken ct)
    {
        if (ReadMonth(month, time, out var period) is { } bad)
        {
            return bad;
        }
        return await query.GetAsync(orgId, period, ct) is { } usage ? TypedResults.Ok(usage) : OrgNotFound(orgId);
    }

    /// <summary>Reads <c>?month=YYYY-MM</c> (null: the current month); the 400 to answer with otherwise.</summary>
    public static IResult? ReadMonth(string? month, TimeProvider time, out MonthPeriod? period)
    {
        period = null;
        if (month is null)
        {
            return null;
        }
        if (!MonthPeriod.TryParse(month, out var parsed))
        {
            return Invalid($"Invalid month='{month}'. Expected YYYY-MM, e.g. {MonthPeriod.Current(time)}.");
        }
        period = parsed;
        return null;
    }
}
