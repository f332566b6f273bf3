namespace Tollgate.Identity;

/// <summary>Durable organizations, users and keys (SQLite by default, PostgreSQL when distributed).</summary>
public interface IIdentityStore
{
    Task<Organization> CreateOrganizationAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CancellationToken ct = default);
    Task<Organization?> GetOrganizationAsync(string orgId, CancellationToken ct = default);

    /// <summary>
    /// At most <paramref name="limit"/> organizations in creation order (then id), starting after the one whose id is
    /// <paramref name="after"/> (null: from the first; an id that is not stored: none).
    /// </summary>
    Task<IReadOnlyList<Organization>> PageOrganizationsAsync(int limit, string? after, CancellationToken ct = default);

    Task<User> CreateUserAsync(string orgId, string name, CancellationToken ct = default);
    Task<IReadOnlyList<User>> ListUsersAsync(string orgId, CancellationToken ct = default);
    Task<User?> GetUserAsync(string userId, CancellationToken ct = default);

    /// <summary>A page of an organization's users, in creation order, after the user <paramref name="after"/> (as <see cref="PageOrganizationsAsync"/>).</summary>
    Task<IReadOnlyList<User>> PageUsersAsync(string orgId, int limit, string? after, CancellationToken ct = default);

    /// <summary>
    /// Disables the user at <paramref name="at"/>, or enables them when it is null; disabling twice keeps the first time.
    /// Returns the user as stored afterwards, or null when there is no such user.
    /// </summary>
    Task<User?> SetUserDisabledAsync(string userId, DateTimeOffset? at, CancellationToken ct = default);

    Task AddKeyAsync(ApiKeyRecord key, CancellationToken ct = default);
    Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string orgId, CancellationToken ct = default);
    Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken ct = default);

    /// <summary>A page of an organization's keys, in creation order, after the key <paramref name="after"/> (as <see cref="PageOrganizationsAsync"/>).</summary>
    Task<IReadOnlyList<ApiKeyRecord>> PageKeysAsync(string orgId, int limit, string? after, CancellationToken ct = default);

    /// <summary>
    /// Rotates a key, atomically: stores <paramref name="replacement"/> and makes key <paramref name="keyId"/> expire at
    /// <paramref name="expiresAt"/> (or sooner, if it already expires sooner). Does nothing and returns false when that key
    /// does not exist, is revoked or has already expired at <paramref name="now"/>.
    /// </summary>
    Task<bool> RotateKeyAsync(string keyId, ApiKeyRecord replacement, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct = default);
    Task<ApiKeyRecord?> FindKeyByHashAsync(KeyHash hash, CancellationToken ct = default);

    /// <summary>Marks a key revoked; returns false when there is no such key. Revoking twice keeps the first time.</summary>
    Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset at, CancellationToken ct = default);

    /// <summary>Records when keys were last used (batched by the caller).</summary>
    Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken ct = default);

    /// <summary>A small durable setting (e.g. the generated admin token's hash).</summary>
    Task<string?> GetSettingAsync(string name, CancellationToken ct = default);
    Task SetSettingAsync(string name, string value, CancellationToken ct = default);

    /// <summary>
    /// Stores <paramref name="value"/> unless the setting already has one, atomically (of several callers at once, on
    /// one node or many, exactly one stores its value); returns the value the setting holds afterwards, so a caller
    /// knows whether its own value won.
    /// </summary>
    Task<string> AddSettingAsync(string name, string value, CancellationToken ct = default);
}
