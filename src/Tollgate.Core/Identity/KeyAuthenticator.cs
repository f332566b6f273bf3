using System.Collections.Concurrent;

namespace Tollgate.Identity;

/// <summary>Why a presented credential was, or was not, accepted.</summary>
internal enum AuthStatus
{
    Ok,
    Missing,
    Malformed,
    Unknown,
    Revoked,
}

internal readonly record struct AuthResult(AuthStatus Status, Principal? Principal)
{
    public bool Succeeded => Status == AuthStatus.Ok;
}

/// <summary>
/// Checks API keys: shape and checksum first (no lookup), then the SHA-256 against a cache backed by the
/// store. A cached answer is trusted for <see cref="RevalidateAfter"/> (1 s), so a revocation made on any
/// node takes effect everywhere within a second; one made through this node takes effect at once.
/// </summary>
internal sealed class KeyAuthenticator
{
    /// <summary>How long a cached answer (positive or negative) is trusted before the store is asked again.</summary>
    public static readonly TimeSpan RevalidateAfter = TimeSpan.FromSeconds(1);

    private const int MaxNegativeEntries = 10_000;

    private readonly IIdentityStore _store;
    private readonly TimeProvider _time;
    private readonly long _revalidateTicks;
    private readonly ConcurrentDictionary<KeyHash, Entry> _cache = new();
    private readonly ConcurrentDictionary<string, long> _lastUsed = new(StringComparer.Ordinal);
    private int _negativeCount;

    public KeyAuthenticator(IIdentityStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
        _revalidateTicks = (long)(RevalidateAfter.TotalSeconds * time.TimestampFrequency);
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
        if (_cache.TryGetValue(hash, out var entry) && now - entry.CheckedAt < _revalidateTicks)
        {
            return new(Judge(entry.Key, hash));
        }
        return LookUpAsync(hash, ct);
    }

    /// <summary>Forgets what is cached about a key (called when it is revoked through this node).</summary>
    public void Invalidate(KeyHash hash) => _cache.TryRemove(hash, out _);

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
        var key = await _store.FindKeyByHashAsync(hash, ct).ConfigureAwait(false);
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
            return new AuthResult(AuthStatus.Revoked, null);
        }
        _lastUsed[key.Id] = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return new AuthResult(AuthStatus.Ok, key.Principal);
    }

    private readonly record struct Entry(ApiKeyRecord? Key, long CheckedAt);
}
