namespace Tollgate.Caching;

/// <summary>
/// How a node tells every node's caches (its own included) that something they may hold changed: in-process by
/// default (one node), over Redis pub/sub when distributed. Messages are facts that stay true ("this key was
/// revoked"), so a late or repeated one is harmless; a node that may have missed some is told to forget everything
/// (<see cref="CacheInvalidation.Everything"/>).
/// </summary>
public interface ICacheInvalidation
{
    /// <summary>
    /// Whether what any node publishes reaches this node now. While false (one node, or Redis unreachable) a cache
    /// trusts what it holds only briefly and asks its store again.
    /// </summary>
    bool IsDelivering { get; }

    /// <summary>Tells every node, this one included; a failure to reach the others throws (the change itself is already durable).</summary>
    ValueTask PublishAsync(CacheInvalidation message, CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="handler"/> for every message, from any node, on some thread.</summary>
    void Subscribe(Action<CacheInvalidation> handler);
}

/// <summary>One invalidation: what changed (<paramref name="Topic"/>) and which item (<paramref name="Key"/>).</summary>
public readonly record struct CacheInvalidation(string Topic, string Key)
{
    /// <summary>Topic and key of a message that says "you may have missed messages: forget everything".</summary>
    public const string All = "*";

    /// <summary>The API key whose SHA-256 (hex) is <see cref="Key"/> was revoked.</summary>
    public const string KeyRevoked = "key-revoked";

    /// <summary>The API key whose SHA-256 (hex) is <see cref="Key"/> changed (e.g. it was given an expiry by a rotation): read it again.</summary>
    public const string KeyChanged = "key-changed";

    /// <summary>The user whose id is <see cref="Key"/> changed (disabled or enabled): read them, and their keys, again.</summary>
    public const string UserChanged = "user-changed";

    public static CacheInvalidation Everything { get; } = new(All, All);

    public bool IsEverything => Topic == All;
}

/// <summary>One node: a message is handed to this node's own subscribers, and nothing reaches other nodes.</summary>
internal sealed class LocalCacheInvalidation : ICacheInvalidation
{
    private Action<CacheInvalidation>? _handlers;

    public bool IsDelivering => false;

    public ValueTask PublishAsync(CacheInvalidation message, CancellationToken cancellationToken = default)
    {
        _handlers?.Invoke(message);
        return ValueTask.CompletedTask;
    }

    public void Subscribe(Action<CacheInvalidation> handler)
    {
        lock (this)
        {
            _handlers += handler;
        }
    }
}
