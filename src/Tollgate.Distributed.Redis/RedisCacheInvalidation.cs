using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tollgate.Caching;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// Cache invalidation over Redis pub/sub: a message published on one node reaches every subscribed node in
/// milliseconds. Pub/sub delivers at most once and only to connected subscribers, so while the connection is down
/// this node reports <see cref="IsDelivering"/> false (its caches revalidate every second), and when it comes back
/// its subscribers are told to forget everything, since messages may have been missed meanwhile.
/// </summary>
internal sealed partial class RedisCacheInvalidation : ICacheInvalidation
{
    private const char Separator = '\n';

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisChannel _channel;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Action<CacheInvalidation>? _handlers;
    private volatile bool _subscribed;

    public RedisCacheInvalidation(IConnectionMultiplexer redis, RedisKeys keys, ILogger<RedisCacheInvalidation> logger)
    {
        _redis = redis;
        _channel = keys.Invalidations;
        _logger = logger;
        redis.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                _subscribed = false;
            }
        };
        redis.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                _ = SubscribeAsync(missedSome: true);
            }
        };
        _ = SubscribeAsync(missedSome: false);
    }

    public bool IsDelivering => _subscribed && _redis.IsConnected;

    public async ValueTask PublishAsync(CacheInvalidation message, CancellationToken cancellationToken = default)
    {
        // This node at once, whatever Redis does; the others through the channel (this node hears it again: harmless).
        Deliver(message);
        await _redis.GetSubscriber().PublishAsync(_channel, string.Concat(message.Topic, Separator.ToString(), message.Key))
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Subscribe(Action<CacheInvalidation> handler)
    {
        lock (_gate)
        {
            _handlers += handler;
        }
    }

    private async Task SubscribeAsync(bool missedSome)
    {
        try
        {
            var queue = await _redis.GetSubscriber().SubscribeAsync(_channel).ConfigureAwait(false);
            queue.OnMessage(Received);
            _subscribed = true;
            if (missedSome)
            {
                LogResubscribed(_logger);
                Deliver(CacheInvalidation.Everything);
            }
        }
        catch (Exception ex) when (RedisFailures.IsUnavailable(ex))
        {
            // Retried when the connection is restored.
            _subscribed = false;
            LogSubscribeFailed(_logger, ex);
        }
    }

    private void Received(ChannelMessage message)
    {
        var text = (string?)message.Message;
        var split = text?.IndexOf(Separator) ?? -1;
        if (split > 0)
        {
            Deliver(new CacheInvalidation(text![..split], text[(split + 1)..]));
        }
    }

    private void Deliver(CacheInvalidation message)
    {
        try
        {
            _handlers?.Invoke(message);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, ex, message.Topic);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to cache invalidations again; caches start afresh, as messages may have been missed")]
    private static partial void LogResubscribed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to cache invalidations; caches revalidate every second until Redis answers")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "A cache invalidation handler failed on a {Topic} message")]
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string topic);
}
