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

internal sealed record UserDto(string Id, string Name, string OrgId, DateTimeOffset CreatedAt)
{
    public static UserDto From(User u) => new(u.Id, u.Name, u.OrgId, u.CreatedAt);
}

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
    DateTimeOffset? RevokedAt)
{
    public static KeyDto From(ApiKeyRecord k) => new(
        k.Id, k.Prefix, k.Name, k.OrgId, k.UserId, Limits(k), k.CreatedAt, k.LastUsedAt, k.RevokedAt);

    protected static IReadOnlyDictionary<string, LimitsDto> Limits(ApiKeyRecord k) =>
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
        return new(k.Id, issued.Secret, k.Prefix, k.Name, k.OrgId, k.UserId, KeyDto.From(k).Models, k.CreatedAt);
    }
}
