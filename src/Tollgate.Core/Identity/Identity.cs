using System.Collections.Frozen;

namespace Tollgate.Identity;

public sealed record Organization(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>A user of one organization; keys belong to users.</summary>
public sealed record User(string Id, string OrgId, string Name, DateTimeOffset CreatedAt)
{
    /// <summary>When the user was disabled (their keys are refused until they are enabled again); null while enabled.</summary>
    public DateTimeOffset? DisabledAt { get; init; }

    public bool IsDisabled => DisabledAt is not null;
}

/// <summary>What a key may do with one model: fixed when the key is generated.</summary>
/// <param name="Concurrency">Requests or connections in flight at once for the (organization, model) pool.</param>
/// <param name="MonthlyAudioHours">Audio hours per calendar month (UTC) for the (organization, model) pool.</param>
public sealed record ModelLimits(int Concurrency, double MonthlyAudioHours)
{
    /// <summary>The monthly limit in the unit the meter counts: milliseconds of audio.</summary>
    public long MonthlyAudioMs { get; } = (long)Math.Round(MonthlyAudioHours * 3_600_000d);
}

/// <summary>A stored API key: never the secret itself, only its hash and visible prefix.</summary>
public sealed record ApiKeyRecord(
    string Id,
    string OrgId,
    string UserId,
    string? Name,
    string Prefix,
    KeyHash Hash,
    FrozenDictionary<string, ModelLimits> Models,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt)
{
    private Principal? _principal;

    /// <summary>When the key stops authenticating (the end of a rotation's overlap); null: never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When its user was disabled, read with the key from the user (not stored with the key); null while the user is enabled.</summary>
    public DateTimeOffset? UserDisabledAt { get; init; }

    public bool IsRevoked => RevokedAt is not null;

    /// <summary>Whether the key no longer authenticates at <paramref name="now"/>: its expiry (set when it was rotated) has come.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } end && end <= now;

    /// <summary>The principal this key authenticates as, built once per record so admission allocates nothing.</summary>
    public Principal Principal => _principal ??= new Principal(this);
}

/// <summary>Who a request is, once its key has been checked: enough to judge it without another lookup.</summary>
public sealed class Principal
{
    public Principal(ApiKeyRecord key)
    {
        Key = key;
    }

    public ApiKeyRecord Key { get; }
    public string OrgId => Key.OrgId;
    public string UserId => Key.UserId;
    public string KeyId => Key.Id;

    public bool TryGetLimits(string model, out ModelLimits limits) => Key.Models.TryGetValue(model, out limits!);
}
