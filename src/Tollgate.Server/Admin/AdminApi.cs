using Microsoft.Extensions.Options;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Server.Admin.Insights;
using Tollgate.Server.Http;
using Tollgate.Server.OpenApi;
using static Tollgate.Server.Admin.AdminResults;

namespace Tollgate.Server.Admin;

/// <summary>
/// The Admin API, behind an admin token (<see cref="AdminTokenFilter"/>): organizations and users here, keys in
/// <see cref="AdminKeysApi"/>, usage in <see cref="UsageReport"/> and <see cref="ChargedUsage"/>, admin tokens in
/// <see cref="AdminTokensApi"/>. Every endpoint declares what it concerns (<see cref="AdminScope"/>) for the scope check
/// of organization admin tokens.
/// </summary>
internal static class AdminApi
{
    public const int MaxNameLength = 200;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin")
            .WithTags("Admin")
            .WithMetadata(AdminApiMetadata.Instance)
            .AddEndpointFilter<AdminTokenFilter>();

        admin.MapPost("/orgs", CreateOrganization).WithName("CreateOrganization").WithSummary("Create an organization (operator tokens only).")
            .AcceptsJson<CreateNameRequest>().Produces<OrganizationDto>(StatusCodes.Status201Created).Refuses(BodyRefusals(403, 422))
            .Scoped(AdminScope.Operator);
        admin.MapGet("/orgs", ListOrganizations).WithName("ListOrganizations")
            .WithSummary("List organizations, oldest first, a page at a time (?limit=, default 100, at most 1000; ?after= the previous page's next); operator tokens only.")
            .Produces<PageDto<OrganizationDto>>().Refuses(400, 403).Scoped(AdminScope.Operator);
        admin.MapGet("/orgs/{orgId}", GetOrganization).WithName("GetOrganization").WithSummary("Get one organization.")
            .Produces<OrganizationDto>().Refuses(403, 404).Scoped(AdminScope.Organization);
        admin.MapPost("/orgs/{orgId}/users", CreateUser).WithName("CreateUser").WithSummary("Create a user in an organization.")
            .AcceptsJson<CreateNameRequest>().Produces<UserDto>(StatusCodes.Status201Created).Refuses(BodyRefusals(403, 404, 422))
            .Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/users", ListUsers).WithName("ListUsers")
            .WithSummary("List an organization's users, oldest first, a page at a time (?limit=, ?after=).")
            .Produces<PageDto<UserDto>>().Refuses(400, 403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/users/{userId}", GetOrganizationUser).WithName("GetOrganizationUser").WithSummary("Get one user of an organization.")
            .Produces<UserDto>().Refuses(403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/users/{userId}", GetUser).WithName("GetUser").WithSummary("Get one user by id.")
            .Produces<UserDto>().Refuses(404).Scoped(AdminScope.User);
        admin.MapPost("/users/{userId}/disable", (string userId, IIdentityStore store, KeyAuthenticator authenticator, TimeProvider time,
                ILoggerFactory loggers, CancellationToken ct) => SetDisabledAsync(userId, Timestamps.Now(time), store, authenticator, loggers, ct))
            .WithName("DisableUser")
            .WithSummary("Disable a user: every key of theirs is refused (401 user_disabled) within a second on every node, until the user is enabled again.")
            .Produces<UserDto>().Refuses(404).Scoped(AdminScope.User);
        admin.MapPost("/users/{userId}/enable", (string userId, IIdentityStore store, KeyAuthenticator authenticator,
                ILoggerFactory loggers, CancellationToken ct) => SetDisabledAsync(userId, null, store, authenticator, loggers, ct))
            .WithName("EnableUser").WithSummary("Enable a disabled user: their keys (those not revoked or expired) work again.")
            .Produces<UserDto>().Refuses(404).Scoped(AdminScope.User);
        admin.MapGet("/orgs/{orgId}/usage", (string orgId, string? month, IIdentityStore store, IUsageLedger ledger, IQuotaMeter meter,
                ILeaseTable leases, IOptions<QuotaOptions> quota, TimeProvider time, CancellationToken ct) =>
                UsageReport.GetAsync(orgId, month, store, ledger, meter, leases, quota.Value, time, ct))
            .WithName("GetUsage")
            .WithSummary("Audio hours used, limit, remaining and reset per model for a month (default: this month), and requests in flight.")
            .Produces<UsageReportDto>().Refuses(400, 403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/users/{userId}/usage", ChargedUsage.ForUserAsync).WithName("GetUserUsage")
            .WithSummary("What the ledger charged a user (all their keys) per model in a month (?month=YYYY-MM, default this month).")
            .Produces<ChargedUsageDto>().Refuses(400, 404).Scoped(AdminScope.User);

        admin.MapAdminKeysApi();
        admin.MapAdminTokensApi();
        admin.MapUsageExport();
        admin.MapAdminInsightsApi();
        return app;
    }

    private static async Task<IResult> CreateOrganization(HttpRequest request, IIdentityStore store, CancellationToken ct)
    {
        var (body, error) = await AdminBody.ReadAsync(request, ReadName, ct);
        if (error is not null)
        {
            return error;
        }
        if (ValidateName(body!.Name) is { } invalid)
        {
            return invalid;
        }
        var org = await store.CreateOrganizationAsync(body.Name!.Trim(), ct);
        return TypedResults.Created($"/admin/orgs/{org.Id}", OrganizationDto.From(org));
    }

    private static async Task<IResult> ListOrganizations(string? limit, string? after, IIdentityStore store, CancellationToken ct)
    {
        if (TryReadLimit(limit, out var size) is { } bad)
        {
            return bad;
        }
        if (after is not null && await store.GetOrganizationAsync(after, ct) is null)
        {
            return UnknownCursor(after, "organization");
        }
        var rows = await store.PageOrganizationsAsync(size + 1, after, ct);
        return TypedResults.Ok(Page(rows, size, o => o.Id, OrganizationDto.From));
    }

    private static async Task<IResult> GetOrganization(string orgId, IIdentityStore store, CancellationToken ct) =>
        await store.GetOrganizationAsync(orgId, ct) is { } org ? TypedResults.Ok(OrganizationDto.From(org)) : OrgNotFound(orgId);

    private static async Task<IResult> CreateUser(string orgId, HttpRequest request, IIdentityStore store, CancellationToken ct)
    {
        var (body, error) = await AdminBody.ReadAsync(request, ReadName, ct);
        if (error is not null)
        {
            return error;
        }
        if (ValidateName(body!.Name) is { } invalid)
        {
            return invalid;
        }
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        var user = await store.CreateUserAsync(orgId, body.Name!.Trim(), ct);
        return TypedResults.Created($"/admin/orgs/{orgId}/users/{user.Id}", UserDto.From(user));
    }

    private static async Task<IResult> ListUsers(string orgId, string? limit, string? after, IIdentityStore store, CancellationToken ct)
    {
        if (TryReadLimit(limit, out var size) is { } bad)
        {
            return bad;
        }
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        if (after is not null && (await store.GetUserAsync(after, ct))?.OrgId != orgId)
        {
            return UnknownCursor(after, $"user of organization {orgId}");
        }
        var rows = await store.PageUsersAsync(orgId, size + 1, after, ct);
        return TypedResults.Ok(Page(rows, size, u => u.Id, UserDto.From));
    }

    private static async Task<IResult> GetOrganizationUser(string orgId, string userId, IIdentityStore store, CancellationToken ct)
    {
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        return await store.GetUserAsync(userId, ct) is { } user && user.OrgId == orgId
            ? TypedResults.Ok(UserDto.From(user))
            : ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"Organization {orgId} has no user {userId}.");
    }

    private static async Task<IResult> GetUser(string userId, IIdentityStore store, CancellationToken ct) =>
        await store.GetUserAsync(userId, ct) is { } user ? TypedResults.Ok(UserDto.From(user)) : UserNotFound(userId);

    private static async Task<IResult> SetDisabledAsync(string userId, DateTimeOffset? at, IIdentityStore store, KeyAuthenticator authenticator,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var user = await store.SetUserDisabledAsync(userId, at, ct);
        if (user is null)
        {
            return UserNotFound(userId);
        }
        try
        {
            // Every node forgets the user's cached keys (Redis pub/sub when distributed); this node's at once.
            await authenticator.UserChangedAsync(userId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Durable already: the other nodes read it when they next ask the store (within 1 s once they notice they are cut off).
            loggers.CreateLogger("Tollgate.Admin").LogWarning(ex, "User {UserId} is {State}, but the other nodes could not be told at once",
                userId, at is null ? "enabled" : "disabled");
        }
        return TypedResults.Ok(UserDto.From(user));
    }

    public static IResult? ValidateName(string? name) =>
        NameProblem(name) is { } problem ? ApiError.Result(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed, problem) : null;

    /// <summary>What is wrong with an organization's or a user's name, or null; the Admin API and the console both answer with it.</summary>
    public static string? NameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength ? $"name: required, 1 to {MaxNameLength} characters." : null;

    /// <summary><c>{"name": "…"}</c>, the body of the create-organization and create-user calls.</summary>
    private static CreateNameRequest ReadName(JsonObjectReader body) => new(body.Takes("name").Text("name"));
}
