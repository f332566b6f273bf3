using System.Text.Json.Serialization;

namespace Tollgate.Client.Admin;

/// <summary>An organization: the tenant that owns users, keys and the pooled limits.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Name">Its display name.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record Organization(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>A user of one organization; keys belong to users, request-rate windows are counted per user.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Name">Its display name.</param>
/// <param name="OrgId">The organization it belongs to.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="DisabledAt">When the user was disabled (their keys are refused); <see langword="null"/> while enabled.</param>
public sealed record User(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("disabled_at")] DateTimeOffset? DisabledAt = null)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>A key's entitlement for one model, fixed when the key is created.</summary>
/// <param name="Concurrency">How many requests or streams of this model may run at once, across the organization.</param>
/// <param name="MonthlyAudioHours">Hours of audio per calendar month (UTC), across the organization.</param>
public sealed record ModelLimits(
    [property: JsonPropertyName("concurrency")] int Concurrency,
    [property: JsonPropertyName("monthly_audio_hours")] double MonthlyAudioHours);

/// <summary>An API key as listed or inspected: never its secret.</summary>
/// <param name="Id">Its id (for <see cref="TollgateAdminClient.GetKeyAsync"/> and <see cref="TollgateAdminClient.RevokeKeyAsync"/>).</param>
/// <param name="Prefix">The short visible start of the secret, to recognise the key.</param>
/// <param name="Name">Its optional label.</param>
/// <param name="OrgId">The owning organization.</param>
/// <param name="UserId">The owning user.</param>
/// <param name="Models">The models it may call, each with its limits.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="LastUsedAt">When it last authenticated a request; <see langword="null"/> if never.</param>
/// <param name="RevokedAt">When it was revoked; <see langword="null"/> while it is live.</param>
/// <param name="ExpiresAt">When it stops working (set by a rotation: the end of the overlap); <see langword="null"/>: never.</param>
/// <param name="Status"><c>active</c>, <c>expiring</c> (rotated, still in its overlap), <c>expired</c> or <c>revoked</c>, as the server saw it.</param>
public sealed record ApiKey(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("models")] IReadOnlyDictionary<string, ModelLimits> Models,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset? LastUsedAt,
    [property: JsonPropertyName("revoked_at")] DateTimeOffset? RevokedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt = null,
    [property: JsonPropertyName("status")] string? Status = null)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>A key just created: the only answer that carries its secret, <see cref="Key"/>. Store it now; it cannot be shown again.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Key">The secret to send as <c>X-API-Key</c> (or <c>apikey</c>, <c>Api-Key</c>, per surface).</param>
/// <param name="Prefix">The short visible start of the secret.</param>
/// <param name="Name">Its optional label.</param>
/// <param name="OrgId">The owning organization.</param>
/// <param name="UserId">The owning user.</param>
/// <param name="Models">The models it may call, each with its limits.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record CreatedApiKey(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("models")] IReadOnlyDictionary<string, ModelLimits> Models,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }

    /// <summary>Describes the key without its secret, so that logging the record never leaks it.</summary>
    public override string ToString() => $"{nameof(CreatedApiKey)} {{ Id = {Id}, Prefix = {Prefix}, Key = *** }}";
}

/// <summary>An organization's usage for one calendar month (UTC).</summary>
/// <param name="OrgId">The organization.</param>
/// <param name="Month">The month, <c>YYYY-MM</c>.</param>
/// <param name="ResetAt">When the monthly quotas reset (the start of the next month, UTC).</param>
/// <param name="Models">One entry per model the organization has used or is entitled to.</param>
public sealed record UsageReport(
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("month")] string Month,
    [property: JsonPropertyName("reset_at")] DateTimeOffset? ResetAt,
    [property: JsonPropertyName("models")] IReadOnlyList<ModelUsage> Models)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>One model's pooled usage in a <see cref="UsageReport"/>.</summary>
/// <param name="Model">The model name, e.g. <c>velma-2-stt-batch</c>.</param>
/// <param name="UsedHours">Audio hours charged this month.</param>
/// <param name="LimitHours">The monthly limit in hours; <see langword="null"/> when the server reports none.</param>
/// <param name="RemainingHours">What is left of <paramref name="LimitHours"/>; <see langword="null"/> when there is no limit.</param>
/// <param name="InFlight">Requests and streams running now.</param>
/// <param name="ConcurrencyLimit">How many may run at once; <see langword="null"/> when the server reports none.</param>
public sealed record ModelUsage(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("used_hours")] double UsedHours,
    [property: JsonPropertyName("limit_hours")] double? LimitHours,
    [property: JsonPropertyName("remaining_hours")] double? RemainingHours,
    [property: JsonPropertyName("in_flight")] int InFlight,
    [property: JsonPropertyName("concurrency_limit")] int? ConcurrencyLimit)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>One page of a list; pass <see cref="Next"/> as <c>after</c> for the following page (null: this is the last).</summary>
/// <typeparam name="T">What is listed.</typeparam>
/// <param name="Items">The page's items, oldest first.</param>
/// <param name="Next">The cursor of the next page; <see langword="null"/> on the last page.</param>
public sealed record Page<T>(
    [property: JsonPropertyName("items")] IReadOnlyList<T> Items,
    [property: JsonPropertyName("next")] string? Next)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>The answer of a key rotation.</summary>
/// <param name="Key">The new key: same owner, name and entitlements; its secret is in this answer only.</param>
/// <param name="Replaced">The old key, with <see cref="ApiKey.ExpiresAt"/> saying when it stops working.</param>
public sealed record RotatedApiKey(
    [property: JsonPropertyName("key")] CreatedApiKey Key,
    [property: JsonPropertyName("replaced")] ApiKey Replaced)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>What the ledger charged one key, or one user through all their keys, in a month.</summary>
/// <param name="OrgId">The organization.</param>
/// <param name="UserId">The user.</param>
/// <param name="KeyId">The key; <see langword="null"/> for a user's usage.</param>
/// <param name="Month">The month, <c>YYYY-MM</c>.</param>
/// <param name="UsedMs">Milliseconds of audio charged.</param>
/// <param name="UsedHours">The same in hours.</param>
/// <param name="Charges">How many charges (ledger rows).</param>
/// <param name="Models">Per model.</param>
public sealed record ChargedUsage(
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("key_id")] string? KeyId,
    [property: JsonPropertyName("month")] string Month,
    [property: JsonPropertyName("used_ms")] long UsedMs,
    [property: JsonPropertyName("used_hours")] double UsedHours,
    [property: JsonPropertyName("charges")] long Charges,
    [property: JsonPropertyName("models")] IReadOnlyList<ChargedModel> Models)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>One model's line of a <see cref="ChargedUsage"/>.</summary>
/// <param name="Model">The model.</param>
/// <param name="UsedMs">Milliseconds charged.</param>
/// <param name="UsedHours">The same in hours.</param>
/// <param name="Charges">How many charges.</param>
public sealed record ChargedModel(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("used_ms")] long UsedMs,
    [property: JsonPropertyName("used_hours")] double UsedHours,
    [property: JsonPropertyName("charges")] long Charges)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>An admin token as listed: never its secret.</summary>
/// <param name="Id">Its id (for <see cref="TollgateAdminClient.RevokeAdminTokenAsync"/>).</param>
/// <param name="Prefix">The visible start of the secret.</param>
/// <param name="Name">Its optional label.</param>
/// <param name="OrgId">The organization it administers; <see langword="null"/> for an operator token.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; <see langword="null"/> while it works.</param>
public sealed record AdminToken(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("org_id")] string? OrgId,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("revoked_at")] DateTimeOffset? RevokedAt)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }
}

/// <summary>An admin token just created: the only answer that carries its secret, <see cref="Token"/>.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Token">The secret to send as <c>Authorization: Bearer …</c>.</param>
/// <param name="Prefix">The visible start of the secret.</param>
/// <param name="Name">Its optional label.</param>
/// <param name="OrgId">The organization it administers; <see langword="null"/> for an operator token.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record CreatedAdminToken(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("org_id")] string? OrgId,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    /// <summary>Fields of the answer this type does not name (a newer server's), kept so that writing the value out again loses nothing.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Extra { get; set; }

    /// <summary>Describes the token without its secret, so that logging the record never leaks it.</summary>
    public override string ToString() => $"{nameof(CreatedAdminToken)} {{ Id = {Id}, Prefix = {Prefix}, OrgId = {OrgId}, Token = *** }}";
}

/// <summary>The answer of the list-admin-tokens call.</summary>
internal sealed record AdminTokenList([property: JsonPropertyName("items")] IReadOnlyList<AdminToken> Items);

/// <summary>The body of the rotate-key call.</summary>
internal sealed record RotateKeyRequest([property: JsonPropertyName("overlap")] string Overlap);

/// <summary>The body of the create-admin-token call.</summary>
internal sealed record CreateAdminTokenRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("org_id")] string? OrgId);

/// <summary>The body of the create-organization and create-user calls.</summary>
internal sealed record CreateNameRequest([property: JsonPropertyName("name")] string Name);

/// <summary>The body of the create-key call.</summary>
internal sealed record CreateKeyRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("models")] IReadOnlyDictionary<string, ModelLimits> Models);
