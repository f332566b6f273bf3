using Tollgate.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admin;

/// <summary>The Admin API: organizations, users and keys, behind the admin bearer token.</summary>
internal static class AdminApi
{
    private const int MaxNameLength = 200;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin")
            .WithTags("Admin")
            .WithMetadata(AdminApiMetadata.Instance)
            .AddEndpointFilter<AdminTokenFilter>();

        admin.MapPost("/orgs", CreateOrganization).WithName("CreateOrganization").WithSummary("Create an organization.")
            .AcceptsJson<CreateNameRequest>().Produces<OrganizationDto>(StatusCodes.Status201Created).Refuses(BodyRefusals(422));
        admin.MapGet("/orgs", ListOrganizations).WithName("ListOrganizations").WithSummary("List organizations.").Refuses();
        admin.MapGet("/orgs/{orgId}", GetOrganization).WithName("GetOrganization").WithSummary("Get one organization.")
            .Produces<OrganizationDto>().Refuses(404);
        admin.MapPost("/orgs/{orgId}/users", CreateUser).WithName("CreateUser").WithSummary("Create a user in an organization.")
            .AcceptsJson<CreateNameRequest>().Produces<UserDto>(StatusCodes.Status201Created).Refuses(BodyRefusals(404, 422));
        admin.MapGet("/orgs/{orgId}/users", ListUsers).WithName("ListUsers").WithSummary("List an organization's users.")
            .Produces<List<UserDto>>().Refuses(404);
        admin.MapPost("/orgs/{orgId}/users/{userId}/keys", CreateKey).WithName("CreateKey")
            .WithSummary("Create an API key with fixed entitlements; the secret is in this answer only.")
            .AcceptsJson<CreateKeyRequest>().Produces<CreatedKeyDto>(StatusCodes.Status201Created).Refuses(BodyRefusals(404, 422));
        admin.MapGet("/orgs/{orgId}/keys", ListKeys).WithName("ListKeys").WithSummary("List an organization's keys (no secrets).")
            .Produces<List<KeyDto>>().Refuses(404);
        admin.MapGet("/keys/{keyId}", GetKey).WithName("GetKey").WithSummary("Inspect one key: prefix, owner, entitlements, created, last used.")
            .Produces<KeyDto>().Refuses(404);
        admin.MapDelete("/keys/{keyId}", RevokeKey).WithName("RevokeKey").WithSummary("Revoke a key, immediately.")
            .Produces(StatusCodes.Status204NoContent).Refuses(404);
        admin.MapGet("/orgs/{orgId}/usage", (string orgId, string? month, IIdentityStore store, IUsageLedger ledger, IQuotaMeter meter,
                ILeaseTable leases, IOptions<QuotaOptions> quota, TimeProvider time, CancellationToken ct) =>
                UsageReport.GetAsync(orgId, month, store, ledger, meter, leases, quota.Value, time, ct))
            .WithName("GetUsage")
            .WithSummary("Audio hours used, limit, remaining and reset per model for a month (default: this month), and requests in flight.")
            .Produces<UsageReportDto>().Refuses(400, 404);
        admin.MapUsageExport();
        return app;
    }

    /// <summary>The refusals every Admin API call can meet (a wrong token, throttling, a bad body), plus <paramref name="statuses"/>.</summary>
    private static RouteHandlerBuilder Refuses(this RouteHandlerBuilder endpoint, params int[] statuses)
    {
        foreach (var status in statuses.Concat([StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests]))
        {
            endpoint.Produces<ErrorBody>(status);
        }
        return endpoint;
    }

    /// <summary>What a call with a JSON body can also meet: 400 invalid_json, 413 over 64 KB, 415 not JSON.</summary>
    private static int[] BodyRefusals(params int[] statuses) =>
        [StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, .. statuses];

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

    private static async Task<Ok<List<OrganizationDto>>> ListOrganizations(IIdentityStore store, CancellationToken ct) =>
        TypedResults.Ok((await store.ListOrganizationsAsync(ct)).Select(OrganizationDto.From).ToList());

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

    private static async Task<IResult> ListUsers(string orgId, IIdentityStore store, CancellationToken ct)
    {
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        return TypedResults.Ok((await store.ListUsersAsync(orgId, ct)).Select(UserDto.From).ToList());
    }

    private static async Task<IResult> CreateKey(string orgId, string userId, HttpRequest request, IIdentityStore store, KeyIssuer issuer, CancellationToken ct)
    {
        var (body, error) = await AdminBody.ReadAsync(request, ReadKeyRequest, ct);
        if (error is not null)
        {
            return error;
        }
        if (body!.Name is { Length: > MaxNameLength })
        {
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed, $"name: at most {MaxNameLength} characters.");
        }
        var errors = new List<string>();
        var models = new Dictionary<string, ModelLimits>(StringComparer.Ordinal);
        foreach (var (model, limits) in body.Models ?? [])
        {
            if (limits?.Concurrency is not { } concurrency || limits.MonthlyAudioHours is not { } hours)
            {
                errors.Add($"models.{model}: both concurrency and monthly_audio_hours are required.");
                continue;
            }
            models[model] = new ModelLimits(concurrency, hours);
        }
        errors.AddRange(KeyIssuer.Validate(models).Where(e => errors.Count == 0 || !e.StartsWith("models: at least", StringComparison.Ordinal)));
        if (errors.Count > 0)
        {
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed, string.Join(" ", errors));
        }
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        var user = await store.GetUserAsync(userId, ct);
        if (user is null || user.OrgId != orgId)
        {
            return ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"Organization {orgId} has no user {userId}.");
        }
        var issued = await issuer.IssueAsync(user, body.Name, models, ct);
        return TypedResults.Created($"/admin/keys/{issued.Record.Id}", CreatedKeyDto.From(issued));
    }

    private static async Task<IResult> ListKeys(string orgId, IIdentityStore store, CancellationToken ct)
    {
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        return TypedResults.Ok((await store.ListKeysAsync(orgId, ct)).Select(KeyDto.From).ToList());
    }

    private static async Task<IResult> GetKey(string keyId, IIdentityStore store, CancellationToken ct) =>
        await store.GetKeyAsync(keyId, ct) is { } key ? TypedResults.Ok(KeyDto.From(key)) : KeyNotFound(keyId);

    private static async Task<IResult> RevokeKey(string keyId, IIdentityStore store, KeyAuthenticator authenticator, TimeProvider time,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var key = await store.GetKeyAsync(keyId, ct);
        if (key is null)
        {
            return KeyNotFound(keyId);
        }
        await store.RevokeKeyAsync(keyId, time.GetUtcNow(), ct);
        try
        {
            // Every node's cache hears of it (Redis pub/sub when distributed); this node's at once.
            await authenticator.RevokedAsync(key.Hash, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Durable already: the other nodes see it when they next ask the store (within 1 s once they notice they are cut off).
            loggers.CreateLogger("Tollgate.Admin").LogWarning(ex, "Key {KeyId} is revoked, but the other nodes could not be told at once", keyId);
        }
        return TypedResults.NoContent();
    }

    private static IResult? ValidateName(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength
            ? ApiError.Result(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed, $"name: required, 1 to {MaxNameLength} characters.")
            : null;

    private static IResult OrgNotFound(string orgId) =>
        ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No organization {orgId}.");

    private static IResult KeyNotFound(string keyId) =>
        ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No key {keyId}.");

    /// <summary><c>{"name": "…"}</c>, the body of the create-organization and create-user calls.</summary>
    private static CreateNameRequest ReadName(JsonObjectReader body) => new(body.Takes("name").Text("name"));

    /// <summary><c>{"name": "…", "models": {"&lt;model&gt;": {"concurrency": 5, "monthly_audio_hours": 10.0}}}</c>.</summary>
    private static CreateKeyRequest ReadKeyRequest(JsonObjectReader body)
    {
        body.Takes("name", "models");
        return new CreateKeyRequest(body.Text("name"), body.Map("models", """{"velma-2-stt-batch": {"concurrency": 5, "monthly_audio_hours": 10}}""",
            """{"concurrency": 5, "monthly_audio_hours": 10}""",
            static limits => new LimitsDto(
                limits.Takes("concurrency", "monthly_audio_hours").WholeNumber("concurrency", "5"),
                limits.Number("monthly_audio_hours", "10.5"))));
    }
}

/// <summary>
/// Admin calls need <c>Authorization: Bearer &lt;admin token&gt;</c>. A wrong token is counted against its source
/// address like a bad API key (<see cref="AuthFailureThrottle"/>); a missing one is not.
/// </summary>
internal sealed class AdminTokenFilter(AdminTokenVerifier verifier, AuthFailureThrottle throttle) : IEndpointFilter
{
    /// <summary>The Admin API's name in metrics.</summary>
    internal const string Surface = "Admin";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var authorization = http.Request.Headers.Authorization.ToString();
        if (await verifier.VerifyAsync(authorization))
        {
            return await next(context);
        }
        http.Response.Headers.WWWAuthenticate = "Bearer";
        var refusal = new Rejection(StatusCodes.Status401Unauthorized, CloseCodes.Unauthorized, ErrorCodes.InvalidAdminToken,
            "Missing or wrong admin token. Send Authorization: Bearer <token> (Tollgate:Admin:Token, or the one printed on first start).");
        if (authorization.Length > 0)
        {
            refusal = await throttle.FailedAsync(http, Surface, refusal);
        }
        return refusal.ToResult(http);
    }
}
