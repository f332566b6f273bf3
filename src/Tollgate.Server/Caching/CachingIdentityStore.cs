using System.Collections.Concurrent;
using Tollgate.Identity;

namespace Tollgate.Server.Caching;

/// <summary>
/// The identity store with organizations and users cached once found: neither can be renamed or removed (the store has
/// no such call), so a cached one is always right and needs no invalidation. Keys are cached by
/// <see cref="KeyAuthenticator"/>, whose entries a revocation invalidates; everything else passes straight through.
/// </summary>
internal sealed class CachingIdentityStore(IIdentityStore inner) : IIdentityStore
{
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Organization> _organizations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, User> _users = new(StringComparer.Ordinal);

    public async Task<Organization?> GetOrganizationAsync(string orgId, CancellationToken ct = default)
    {
        if (_organizations.TryGetValue(orgId, out var cached))
        {
            return cached;
        }
        var found = await inner.GetOrganizationAsync(orgId, ct).ConfigureAwait(false);
        if (found is not null)
        {
            Remember(_organizations, orgId, found);
        }
        return found;
    }

    public async Task<User?> GetUserAsync(string userId, CancellationToken ct = default)
    {
        if (_users.TryGetValue(userId, out var cached))
        {
            return cached;
        }
        var found = await inner.GetUserAsync(userId, ct).ConfigureAwait(false);
        if (found is not null)
        {
            Remember(_users, userId, found);
        }
        return found;
    }

    private static void Remember<T>(ConcurrentDictionary<string, T> cache, string id, T value)
    {
        if (cache.Count >= MaxEntries)
        {
            cache.Clear();
        }
        cache[id] = value;
    }

    public Task<Organization> CreateOrganizationAsync(string name, CancellationToken ct = default) => inner.CreateOrganizationAsync(name, ct);

    public Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CancellationToken ct = default) => inner.ListOrganizationsAsync(ct);

    public Task<User> CreateUserAsync(string orgId, string name, CancellationToken ct = default) => inner.CreateUserAsync(orgId, name, ct);

    public Task<IReadOnlyList<User>> ListUsersAsync(string orgId, CancellationToken ct = default) => inner.ListUsersAsync(orgId, ct);

    public Task AddKeyAsync(ApiKeyRecord key, CancellationToken ct = default) => inner.AddKeyAsync(key, ct);

    public Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string orgId, CancellationToken ct = default) => inner.ListKeysAsync(orgId, ct);

    public Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken ct = default) => inner.GetKeyAsync(keyId, ct);

    public Task<ApiKeyRecord?> FindKeyByHashAsync(KeyHash hash, CancellationToken ct = default) => inner.FindKeyByHashAsync(hash, ct);

    public Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset at, CancellationToken ct = default) => inner.RevokeKeyAsync(keyId, at, ct);

    public Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken ct = default) =>
        inner.TouchKeysAsync(lastUsed, ct);

    public Task<string?> GetSettingAsync(string name, CancellationToken ct = default) => inner.GetSettingAsync(name, ct);

    public Task SetSettingAsync(string name, string value, CancellationToken ct = default) => inner.SetSettingAsync(name, value, ct);

    public Task<string> AddSettingAsync(string name, string value, CancellationToken ct = default) => inner.AddSettingAsync(name, value, ct);
}
