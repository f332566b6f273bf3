using System.Collections.Concurrent;
using Tollgate.Caching;
using Tollgate.Identity;

namespace Tollgate.Server.Caching;

/// <summary>
/// The identity store with organizations and users cached once found. An organization cannot be renamed or removed
/// (the store has no such call), so a cached one is always right. A user can be disabled and enabled: a cached user is
/// dropped when any node says it changed (<see cref="CacheInvalidation.UserChanged"/>), and trusted as
/// <see cref="KeyAuthenticator"/> trusts a key (30 s while invalidations are delivered, else 1 s). Keys are cached by
/// <see cref="KeyAuthenticator"/>; everything else passes straight through.
/// </summary>
internal sealed class CachingIdentityStore : IIdentityStore
{
    private const int MaxEntries = 100_000;

    private readonly IIdentityStore _inner;
    private readonly TimeProvider _time;
    private readonly ICacheInvalidation _invalidation;
    private readonly ConcurrentDictionary<string, Task<Organization?>> _organizations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Task<User?> User, long CheckedAt)> _users = new(StringComparer.Ordinal);

    public CachingIdentityStore(IIdentityStore inner, TimeProvider time, ICacheInvalidation invalidation)
    {
        _inner = inner;
        _time = time;
        _invalidation = invalidation;
        invalidation.Subscribe(message =>
        {
            if (message.IsEverything)
            {
                _users.Clear();
            }
            else if (message.Topic == CacheInvalidation.UserChanged)
            {
                _users.TryRemove(message.Key, out _);
            }
        });
    }

    // A hit answers with the completed task kept in the cache: no allocation, no state machine.
    public Task<Organization?> GetOrganizationAsync(string orgId, CancellationToken ct = default) =>
        _organizations.TryGetValue(orgId, out var cached) ? cached : ReadOrganizationAsync(orgId, ct);

    private async Task<Organization?> ReadOrganizationAsync(string orgId, CancellationToken ct)
    {
        var found = await _inner.GetOrganizationAsync(orgId, ct).ConfigureAwait(false);
        if (found is not null)
        {
            Remember(_organizations, orgId, Task.FromResult<Organization?>(found));
        }
        return found;
    }

    public Task<User?> GetUserAsync(string userId, CancellationToken ct = default)
    {
        var trust = _invalidation.IsDelivering ? KeyAuthenticator.TrustWhileDelivering : KeyAuthenticator.RevalidateAfter;
        return _users.TryGetValue(userId, out var cached) && _time.GetElapsedTime(cached.CheckedAt) < trust
            ? cached.User
            : ReadUserAsync(userId, ct);
    }

    private async Task<User?> ReadUserAsync(string userId, CancellationToken ct)
    {
        var checkedAt = _time.GetTimestamp();
        var found = await _inner.GetUserAsync(userId, ct).ConfigureAwait(false);
        if (found is not null)
        {
            Remember(_users, userId, (Task.FromResult<User?>(found), checkedAt));
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

    public Task<Organization> CreateOrganizationAsync(string name, CancellationToken ct = default) => _inner.CreateOrganizationAsync(name, ct);

    public Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CancellationToken ct = default) => _inner.ListOrganizationsAsync(ct);

    public Task<IReadOnlyList<Organization>> PageOrganizationsAsync(int limit, string? after, CancellationToken ct = default) =>
        _inner.PageOrganizationsAsync(limit, after, ct);

    public Task<IReadOnlyList<User>> PageUsersAsync(string orgId, int limit, string? after, CancellationToken ct = default) =>
        _inner.PageUsersAsync(orgId, limit, after, ct);

    public async Task<User?> SetUserDisabledAsync(string userId, DateTimeOffset? at, CancellationToken ct = default)
    {
        var user = await _inner.SetUserDisabledAsync(userId, at, ct).ConfigureAwait(false);
        _users.TryRemove(userId, out _);
        return user;
    }

    public Task<IReadOnlyList<ApiKeyRecord>> PageKeysAsync(string orgId, int limit, string? after, CancellationToken ct = default) =>
        _inner.PageKeysAsync(orgId, limit, after, ct);

    public Task<bool> RotateKeyAsync(string keyId, ApiKeyRecord replacement, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct = default) =>
        _inner.RotateKeyAsync(keyId, replacement, expiresAt, now, ct);

    public Task<User> CreateUserAsync(string orgId, string name, CancellationToken ct = default) => _inner.CreateUserAsync(orgId, name, ct);

    public Task<IReadOnlyList<User>> ListUsersAsync(string orgId, CancellationToken ct = default) => _inner.ListUsersAsync(orgId, ct);

    public Task AddKeyAsync(ApiKeyRecord key, CancellationToken ct = default) => _inner.AddKeyAsync(key, ct);

    public Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string orgId, CancellationToken ct = default) => _inner.ListKeysAsync(orgId, ct);

    public Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken ct = default) => _inner.GetKeyAsync(keyId, ct);

    public Task<ApiKeyRecord?> FindKeyByHashAsync(KeyHash hash, CancellationToken ct = default) => _inner.FindKeyByHashAsync(hash, ct);

    public Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset at, CancellationToken ct = default) => _inner.RevokeKeyAsync(keyId, at, ct);

    public Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken ct = default) =>
        _inner.TouchKeysAsync(lastUsed, ct);

    public Task<string?> GetSettingAsync(string name, CancellationToken ct = default) => _inner.GetSettingAsync(name, ct);

    public Task SetSettingAsync(string name, string value, CancellationToken ct = default) => _inner.SetSettingAsync(name, value, ct);

    public Task<string> AddSettingAsync(string name, string value, CancellationToken ct = default) => _inner.AddSettingAsync(name, value, ct);
}
