namespace Tollgate.Identity;

/// <summary>Durable organizations, users and keys (SQLite by default, PostgreSQL when distributed).</summary>
public interface IIdentityStore
{
    Task<Organization> CreateOrganizationAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CancellationToken ct = default);
    Task<Organization?> GetOrganizationAsync(string orgId, CancellationToken ct = default);

    Task<User> CreateUserAsync(string orgId, string name, CancellationToken ct = default);
    Task<IReadOnlyList<User>> ListUsersAsync(string orgId, CancellationToken ct = default);
    Task<User?> GetUserAsync(string userId, CancellationToken ct = default);

    Task AddKeyAsync(ApiKeyRecord key, CancellationToken ct = default);
    Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string orgId, CancellationToken ct = default);
    Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken ct = default);
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
