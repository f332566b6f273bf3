using Tollgate.Identity;
using Tollgate.RateLimiting;
using Tollgate.Server.Http;
using Tollgate.Server.OpenApi;
using static Tollgate.Server.Admin.AdminResults;

namespace Tollgate.Server.Admin;

/// <summary>The Admin API's key calls: create, list, inspect, revoke, rotate, usage.</summary>
internal static class AdminKeysApi
{
    /// <summary>How long a rotated key keeps working when the call does not say.</summary>
    public static readonly TimeSpan DefaultOverlap = TimeSpan.FromHours(24);

    /// <summary>The longest overlap a rotation may give the old key.</summary>
    public static readonly TimeSpan MaxOverlap = TimeSpan.FromDays(90);

    public static RouteGroupBuilder MapAdminKeysApi(this RouteGroupBuilder admin)
    {
        admin.MapPost("/orgs/{orgId}/users/{userId}/keys", CreateKey).WithName("CreateKey")
            .WithSummary("Create an API key with fixed entitlements; the secret is in this answer only.")
            .AcceptsJson<CreateKeyRequest>().Produces<CreatedKeyDto>(StatusCodes.Status201Created).Refuses(BodyRefusals(403, 404, 422))
            .Scoped(AdminScope.Organization);
        admin.MapGet("/orgs/{orgId}/keys", ListKeys).WithName("ListKeys")
            .WithSummary("List an organization's keys (no secrets), oldest first, a page at a time (?limit=, ?after=).")
            .Produces<PageDto<KeyDto>>().Refuses(400, 403, 404).Scoped(AdminScope.Organization);
        admin.MapGet("/keys/{keyId}", GetKey).WithName("GetKey")
            .WithSummary("Inspect one key: prefix, owner, entitlements, created, last used, revoked, expiry and status.")
            .Produces<KeyDto>().Refuses(404).Scoped(AdminScope.Key);
        admin.MapDelete("/keys/{keyId}", RevokeKey).WithName("RevokeKey").WithSummary("Revoke a key, immediately.")
            .Produces(StatusCodes.Status204NoContent).Refuses(404).Scoped(AdminScope.Key);
        admin.MapPost("/keys/{keyId}/rotate", RotateKey).WithName("RotateKey")
            .WithSummary("Rotate a key: a new key with the same owner, name and entitlements (its secret in this answer only); the old one keeps " +
                "working for the overlap (body {\"overlap\": \"24h\"}, optional, default 24h, 0s to 90d; 0s revokes it at once), then stops.")
            .AcceptsJson<RotateKeyRequest>(required: false).Produces<RotatedKeyDto>(StatusCodes.Status201Created)
            .Refuses(BodyRefusals(404, 409, 422)).Scoped(AdminScope.Key);
        admin.MapGet("/keys/{keyId}/usage", ChargedUsage.ForKeyAsync).WithName("GetKeyUsage")
            .WithSummary("What the ledger charged one key per model in a month (?month=YYYY-MM, default this month).")
            .Produces<ChargedUsageDto>().Refuses(400, 404).Scoped(AdminScope.Key);
        return admin;
    }

    private static async Task<IResult> CreateKey(string orgId, string userId, HttpRequest request, IIdentityStore store, KeyIssuer issuer, CancellationToken ct)
    {
        var (body, error) = await AdminBody.ReadAsync(request, ReadKeyRequest, ct);
        if (error is not null)
        {
            return error;
        }
        var errors = ValidateKeyRequest(body!, out var models);
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
        var issued = await issuer.IssueAsync(user, body!.Name, models, ct);
        return TypedResults.Created($"/admin/keys/{issued.Record.Id}", CreatedKeyDto.From(issued));
    }

    /// <summary>
    /// Every problem with a key request (its name, and each model's limits by <see cref="KeyIssuer.Validate"/>), and the
    /// entitlements it asks for; the Admin API answers the problems joined in one 422, the console shows each beside its field.
    /// </summary>
    internal static List<string> ValidateKeyRequest(CreateKeyRequest body, out Dictionary<string, ModelLimits> models)
    {
        var errors = new List<string>();
        if (body.Name is { Length: > AdminApi.MaxNameLength })
        {
            errors.Add($"name: at most {AdminApi.MaxNameLength} characters.");
        }
        var missing = 0;
        models = new Dictionary<string, ModelLimits>(StringComparer.Ordinal);
        foreach (var (model, limits) in body.Models ?? [])
        {
            if (limits?.Concurrency is not { } concurrency || limits.MonthlyAudioHours is not { } hours)
            {
                errors.Add($"models.{model}: both concurrency and monthly_audio_hours are required.");
                missing++;
                continue;
            }
            models[model] = new ModelLimits(concurrency, hours);
        }
        errors.AddRange(KeyIssuer.Validate(models).Where(e => missing == 0 || !e.StartsWith("models: at least", StringComparison.Ordinal)));
        return errors;
    }

    private static async Task<IResult> ListKeys(string orgId, string? limit, string? after, IIdentityStore store, TimeProvider time, CancellationToken ct)
    {
        if (TryReadLimit(limit, out var size) is { } bad)
        {
            return bad;
        }
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        if (after is not null && (await store.GetKeyAsync(after, ct))?.OrgId != orgId)
        {
            return UnknownCursor(after, $"key of organization {orgId}");
        }
        var rows = await store.PageKeysAsync(orgId, size + 1, after, ct);
        var now = time.GetUtcNow();
        return TypedResults.Ok(Page(rows, size, k => k.Id, k => KeyDto.From(k, now)));
    }

    private static async Task<IResult> GetKey(string keyId, IIdentityStore store, TimeProvider time, CancellationToken ct) =>
        await store.GetKeyAsync(keyId, ct) is { } key ? TypedResults.Ok(KeyDto.From(key, time.GetUtcNow())) : KeyNotFound(keyId);

    private static async Task<IResult> RevokeKey(string keyId, IIdentityStore store, KeyAuthenticator authenticator, TimeProvider time,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var key = await store.GetKeyAsync(keyId, ct);
        if (key is null)
        {
            return KeyNotFound(keyId);
        }
        await RevokeAsync(key, store, authenticator, time, loggers);
        return TypedResults.NoContent();
    }

    /// <summary>Revokes a key and tells every node's key cache (the Admin API's revoke and the console's).</summary>
    internal static async Task RevokeAsync(ApiKeyRecord key, IIdentityStore store, KeyAuthenticator authenticator, TimeProvider time, ILoggerFactory loggers)
    {
        await store.RevokeKeyAsync(key.Id, Timestamps.Now(time), CancellationToken.None);
        await TellNodesAsync(key.Id, loggers, () => authenticator.RevokedAsync(key.Hash, CancellationToken.None));
    }

    private static async Task<IResult> RotateKey(string keyId, HttpRequest request, IIdentityStore store, KeyIssuer issuer, KeyAuthenticator authenticator,
        TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        var overlap = DefaultOverlap;
        if (HasBody(request))
        {
            var (body, error) = await AdminBody.ReadAsync(request, static b => new RotateKeyRequest(b.Takes("overlap").Text("overlap")), ct);
            if (error is not null)
            {
                return error;
            }
            if (body!.Overlap is { } text && !TryParseOverlap(text, out overlap))
            {
                return ApiError.Result(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed,
                    $"overlap: expected a duration from 0s to {MaxOverlap.TotalDays:0}d such as 24h, 30m or 0s (0s revokes the old key at once); got '{text}'.");
            }
        }
        var old = await store.GetKeyAsync(keyId, ct);
        if (old is null)
        {
            return KeyNotFound(keyId);
        }
        var rotated = await issuer.RotateAsync(old, overlap, ct);
        if (rotated is null)
        {
            return ApiError.Result(StatusCodes.Status409Conflict, ErrorCodes.KeyNotRotatable,
                $"Key {keyId} is {(old.IsRevoked ? "revoked" : "expired")}: only a key that still works can be rotated. Create a new key instead.");
        }
        if (overlap == TimeSpan.Zero)
        {
            await RevokeAsync(old, store, authenticator, time, loggers);
        }
        else
        {
            await TellNodesAsync(keyId, loggers, () => authenticator.ChangedAsync(old.Hash, CancellationToken.None));
        }
        var replaced = await store.GetKeyAsync(keyId, CancellationToken.None) ?? old;
        return TypedResults.Created($"/admin/keys/{rotated.Record.Id}",
            new RotatedKeyDto(CreatedKeyDto.From(rotated), KeyDto.From(replaced, time.GetUtcNow())));
    }

    /// <summary>The rotate call's body is optional: none at all (no length, or length 0, and no content type) takes the defaults.</summary>
    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || (request.ContentLength is null && (request.ContentType is not null || request.Headers.TransferEncoding.Count > 0));

    internal static bool TryParseOverlap(string text, out TimeSpan overlap)
    {
        if (text.Trim() == "0")
        {
            overlap = TimeSpan.Zero;
            return true;
        }
        return RateLimitValidator.TryParseWindowText(text, out overlap) && overlap >= TimeSpan.Zero && overlap <= MaxOverlap;
    }

    private static async Task TellNodesAsync(string keyId, ILoggerFactory loggers, Func<ValueTask> publish)
    {
        try
        {
            // Every node's cache hears of it (Redis pub/sub when distributed); this node's at once.
            await publish();
        }
        catch (Exception ex)
        {
            // Durable already: the other nodes see it when they next ask the store (within 1 s once they notice they are cut off).
            loggers.CreateLogger("Tollgate.Admin").LogWarning(ex, "Key {KeyId} changed, but the other nodes could not be told at once", keyId);
        }
    }

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
