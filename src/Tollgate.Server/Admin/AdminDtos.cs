using System.Text.Json.Serialization;
using Tollgate.Identity;

namespace Tollgate.Server.Admin;

internal sealed record CreateNameRequest(string? Name);

internal sealed record LimitsDto(
    [property: JsonPropertyName("concurrency")] int? Concurrency,
    [property: JsonPropertyName("monthly_audio_hours")] double? MonthlyAudioHours);

internal sealed record CreateKeyRequest(string? Name, Dictionary<string, LimitsDto?>? Models);

internal sealed record OrganizationDto(string Id, string Name, DateTimeOffset CreatedAt)
{
    public static OrganizationDto From(Organization o) => new(o.Id, o.Name, o.CreatedAt);
}

/// <summary>A user; <c>disabled_at</c> is set while the user is disabled (their keys are refused).</summary>
internal sealed record UserDto(string Id, string Name, string OrgId, DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt)
{
    public static UserDto From(User u) => new(u.Id, u.Name, u.OrgId, u.CreatedAt, u.DisabledAt);
}

/// <summary>The body of <c>POST /admin/keys/{keyId}/rotate</c>: how long the old key keeps working (default 24h).</summary>
internal sealed record RotateKeyRequest(string? Overlap);

/// <summary>The body of <c>POST /admin/tokens</c>: a label, and the organization the token administers (none: an operator token).</summary>
internal sealed record CreateAdminTokenRequest(string? Name, string? OrgId);

/// <summary>An admin token as listed: never its secret. <c>org_id</c> null: an operator token.</summary>
internal record AdminTokenDto(string Id, string Prefix, string? Name, string? OrgId, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public static AdminTokenDto From(AdminTokenRecord t) => new(t.Id, t.Prefix, t.Name, t.OrgId, t.CreatedAt, t.RevokedAt);
}

/// <summary>An admin token as created: the only answer that carries the secret (<c>token</c>).</summary>
internal sealed record CreatedAdminTokenDto(string Id, string Token, string Prefix, string? Name, string? OrgId, DateTimeOffset CreatedAt);

/// <summary>The list of admin tokens.</summary>
internal sealed record AdminTokenListDto(IReadOnlyList<AdminTokenDto> Items);

/// <summary>A key as listed: never its secret.</summary>
internal record KeyDto(
    string Id,
    string Prefix,
    string? Name,
    string OrgId,
    string UserId,
    IReadOnlyDictionary<string, LimitsDto> Models,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? ExpiresAt,
    string Status)
{
    /// <summary>The key as it stands at <paramref name="now"/>: status <c>active</c>, <c>expiring</c> (rotated, still in its overlap), <c>expired</c> or <c>revoked</c>.</summary>
    public static KeyDto From(ApiKeyRecord k, DateTimeOffset now) => new(
        k.Id, k.Prefix, k.Name, k.OrgId, k.UserId, Limits(k), k.CreatedAt, k.LastUsedAt, k.RevokedAt, k.ExpiresAt,
        k.IsRevoked ? "revoked" : k.IsExpiredAt(now) ? "expired" : k.ExpiresAt is not null ? "expiring" : "active");

    public static IReadOnlyDictionary<string, LimitsDto> Limits(ApiKeyRecord k) =>
        k.Models.OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(p => p.Key, p => new LimitsDto(p.Value.Concurrency, p.Value.MonthlyAudioHours));
}

/// <summary>A key as created: the only answer that carries the secret.</summary>
internal sealed record CreatedKeyDto(
    string Id,
    string Key,
    string Prefix,
    string? Name,
    string OrgId,
    string UserId,
    IReadOnlyDictionary<string, LimitsDto> Models,
    DateTimeOffset CreatedAt)
{
    public static CreatedKeyDto From(IssuedKey issued)
    {
        var k = issued.Record;
        return new(k.Id, issued.Secret, k.Prefix, k.Name, k.OrgId, k.UserId, KeyDto.Limits(k), k.CreatedAt);
    }
}

/// <summary>
/// The answer of a rotation: the new key (its secret in this answer only; same owner, name and entitlements) and the
/// key it replaces, with when that one stops working.
/// </summary>
internal sealed record RotatedKeyDto(CreatedKeyDto Key, KeyDto Replaced);

/// <summary>One model's charges in a key's or a user's month.</summary>
internal sealed record ChargedModelDto(string Model, long UsedMs, double UsedHours, long Charges);

/// <summary>The answer of <c>GET /admin/keys/{keyId}/usage</c> and <c>GET /admin/users/{userId}/usage</c>: what the ledger charged in the month.</summary>
internal sealed record ChargedUsageDto(string OrgId, string UserId, string? KeyId, string Month, long UsedMs, double UsedHours, long Charges, IReadOnlyList<ChargedModelDto> Models);
