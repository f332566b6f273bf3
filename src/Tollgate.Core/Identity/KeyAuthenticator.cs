using System.Collections.Concurrent;
using Tollgate.Caching;

namespace Tollgate.Identity;

/// <summary>Why a presented credential was, or was not, accepted.</summary>
internal enum AuthStatus
{
    Ok,
    Missing,
    Malformed,
    Unknown,
    Revoked,

    /// <summary>The key's expiry (the end of a rotation's overlap) has come.</summary>
    Expired,

    /// <summary>The key's user is disabled.</summary>
    UserDisabled,
}

/// <param name="RefusedOrgId">For a known key that is refused (revoked, expired, its user disabled): the key's organization, for counting the refusal.</param>
internal readonly record struct AuthResult(AuthStatus Status, Principal? Principal, string? RefusedOrgId = null)
{
    public bool Succeeded => Status == AuthStatus.Ok;
}

/// <summary>
/// Checks API keys: shape and checksum first (no lookup), then the SHA-256 against a cache backed by the
/// store. A revocation is published through <see cref="ICacheInvalidation"/>: every node that hears it marks the key
/// revoked at once. While invalidations reach this node from every other (Redis pub/sub connected), a cached answer
/// is trusted for <see cref="TrustWhileDelivering"/>; otherwise (one node, or Redis unreachable) for
/// <see cref="RevalidateAfter"/> (1 s), so a revocation made on any node takes effect everywhere within a second
/// either way. When messages may have been missed (a reconnect), everything cached is forgotten.
/// </summary>
internal sealed class KeyAuthenticator
{
    /// <summary>How long a cached answer (positive or negative) is trusted before the store is asked again.</summary>
    public static readonly TimeSpan RevalidateAfter = TimeSpan.FromSeconds(1);

    /// <summary>How long a cached answer is trusted while revocations are delivered to this node as they happen.</summary>
    public static readonly TimeSpan TrustWhileDelivering = TimeSpan.FromSeconds(30);

    private const int MaxNegativeEntries = 10_000;

    private readonly IIdentityStore _store;
    private readonly TimeProvider _time;
    private readonly long _revalidateTicks;
    private readonly long _trustTicks;
    private readonly ICacheInvalidation _invalidation;
    private readonly ConcurrentDictionary<KeyHash, Entry> _cache = new();
    private readonly ConcurrentDictionary<string, long> _lastUsed = new(StringComparer.Ordinal);
    private int _negativeCount;

    // Counts the invalidations that drop entries: a lookup that started before one is answered but not cached, since
    // what it read may predate the change.
    private long _generation;

    public KeyAuthenticator(IIdentityStore store, TimeProvider time)
        : this(store, time, new LocalCacheInvalidation())
    {
    }

    public KeyAuthenticator(IIdentityStore store, TimeProvider time, ICacheInvalidation invalidation)
    {
        _store = store;
        _time = time;
        _invalidation = invalidation;
        _revalidateTicks = (long)(RevalidateAfter.TotalSeconds * time.TimestampFrequency);
        _trustTicks = (long)(TrustWhileDelivering.TotalSeconds * time.TimestampFrequency);
        invalidation.Subscribe(OnInvalidation);
    }

    /// <summary>Authenticates without awaiting when the answer is cached and fresh (the common case).</summary>
    public ValueTask<AuthResult> AuthenticateAsync(ReadOnlySpan<char> presented, CancellationToken ct = default)
    {
        if (presented.IsEmpty)
        {
            return new(new AuthResult(AuthStatus.Missing, null));
        }
        if (!ApiKeys.IsWellFormed(presented))
        {
            return new(new AuthResult(AuthStatus.Malformed, null));
        }
        var hash = ApiKeys.Hash(presented);
        var now = _time.GetTimestamp();
        if (_cache.TryGetValue(hash, out var entry) && now - entry.CheckedAt < (_invalidation.IsDelivering ? _trustTicks : _revalidateTicks))
        {
            return new(Judge(entry.Key, hash));
        }
        return LookUpAsync(hash, ct);
    }

    /// <summary>Forgets what is cached about a key.</summary>
    public void Invalidate(KeyHash hash)
    {
        Interlocked.Increment(ref _generation);
        _cache.TryRemove(hash, out _);
    }

    /// <summary>Tells every node that the key changed (e.g. a rotation gave it an expiry), so each reads it again.</summary>
    public ValueTask ChangedAsync(KeyHash hash, CancellationToken ct = default)
    {
        Invalidate(hash);
        return _invalidation.PublishAsync(new CacheInvalidation(CacheInvalidation.KeyChanged, hash.ToHex()), ct);
    }

    /// <summary>Tells every node that the user was disabled or enabled, so each reads that user's keys again.</summary>
    public ValueTask UserChangedAsync(string userId, CancellationToken ct = default)
    {
        ForgetUser(userId);
        return _invalidation.PublishAsync(new CacheInvalidation(CacheInvalidation.UserChanged, userId), ct);
    }

    private void ForgetUser(string userId)
    {
        Interlocked.Increment(ref _generation);
        foreach (var pair in _cache)
        {
            if (pair.Value.Key is { } key && string.Equals(key.UserId, userId, StringComparison.Ordinal))
            {
                _cache.TryRemove(pair);
            }
        }
    }

    /// <summary>
    /// Tells every node that the key was revoked (this node at once). The revocation is already durable in the store;
    /// when the message cannot reach the other nodes this throws, and they see it within <see cref="RevalidateAfter"/>
    /// once they notice they are cut off, or within <see cref="TrustWhileDelivering"/> at worst.
    /// </summary>
    public ValueTask RevokedAsync(KeyHash hash, CancellationToken ct = default)
    {
        Invalidate(hash);
        return _invalidation.PublishAsync(new CacheInvalidation(CacheInvalidation.KeyRevoked, hash.ToHex()), ct);
    }

    private void OnInvalidation(CacheInvalidation message)
    {
        if (message.IsEverything)
        {
            Interlocked.Increment(ref _generation);
            _cache.Clear();
            return;
        }
        if (message.Topic == CacheInvalidation.UserChanged)
        {
            ForgetUser(message.Key);
            return;
        }
        if (message.Topic is not (CacheInvalidation.KeyRevoked or CacheInvalidation.KeyChanged) || message.Key.Length != 64)
        {
            return;
        }
        KeyHash hash;
        try
        {
            hash = KeyHash.FromHex(message.Key);
        }
        catch (FormatException)
        {
            return;
        }
        if (message.Topic == CacheInvalidation.KeyChanged)
        {
            Invalidate(hash);
            return;
        }
        // A revocation is final: a cached record is marked revoked rather than dropped, so no node needs its store to
        // refuse the key from now on.
        if (_cache.TryGetValue(hash, out var entry) && entry.Key is { IsRevoked: false } key)
        {
            _cache.TryUpdate(hash, entry with { Key = key with { RevokedAt = _time.GetUtcNow() } }, entry);
        }
    }

    /// <summary>Takes and clears the keys used since the last call, with the time they were last used.</summary>
    public List<KeyValuePair<string, DateTimeOffset>> DrainLastUsed()
    {
        var drained = new List<KeyValuePair<string, DateTimeOffset>>(_lastUsed.Count);
        foreach (var (id, unixMs) in _lastUsed)
        {
            if (_lastUsed.TryRemove(new KeyValuePair<string, long>(id, unixMs)))
            {
                drained.Add(new(id, DateTimeOffset.FromUnixTimeMilliseconds(unixMs)));
            }
        }
        return drained;
    }

    private async ValueTask<AuthResult> LookUpAsync(KeyHash hash, CancellationToken ct)
    {
        var generation = Interlocked.Read(ref _generation);
        var key = await _store.FindKeyByHashAsync(hash, ct).ConfigureAwait(false);
        if (Interlocked.Read(ref _generation) != generation)
        {
            return Judge(key, hash);
        }
        var fresh = new Entry(key, _time.GetTimestamp());
        if (key is null)
        {
            // Bound what a flood of random well-formed keys can make us remember.
            if (Interlocked.Increment(ref _negativeCount) > MaxNegativeEntries)
            {
                Interlocked.Exchange(ref _negativeCount, 0);
                foreach (var pair in _cache)
                {
                    if (pair.Value.Key is null)
                    {
                        _cache.TryRemove(pair);
                    }
                }
            }
        }
        _cache[hash] = fresh;
        return Judge(key, hash);
    }

    private AuthResult Judge(ApiKeyRecord? key, KeyHash presented)
    {
        if (key is null || !key.Hash.FixedTimeEquals(presented))
        {
            return new AuthResult(AuthStatus.Unknown, null);
        }
        if (key.IsRevoked)
        {
            return new AuthResult(AuthStatus.Revoked, null, key.OrgId);
        }
        if (key.ExpiresAt is { } expires && expires <= _time.GetUtcNow())
        {
            return new AuthResult(AuthStatus.Expired, null, key.OrgId);
        }
        if (key.UserDisabledAt is not null)
        {
            return new AuthResult(AuthStatus.UserDisabled, null, key.OrgId);
        }
        _lastUsed[key.Id] = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return new AuthResult(AuthStatus.Ok, key.Principal);
    }

    private readonly record struct Entry(ApiKeyRecord? Key, long CheckedAt);
}
