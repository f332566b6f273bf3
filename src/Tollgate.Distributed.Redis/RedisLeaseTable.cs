using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tollgate.Limits;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// Concurrency leases in Redis, exact across nodes: a pool is one sorted set whose members are the leases (this node's
/// id and a sequence number) scored by the time they expire. Taking a slot is one script — drop the expired members,
/// count, add one if below the limit — so it is atomic whichever node asks. A lease lives until it is released or
/// until its TTL passes without a renewal; the node renews what it holds (<see cref="RenewHeldAsync"/>, one script per
/// pool), so a node that dies frees its slots within one TTL, and the key itself expires a TTL after its last write,
/// so nothing is ever held for good. Expiry follows the node's <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// A renewal re-adds a lease this node still holds that Redis has lost (a restart without persistence), so the pool
/// counts it again from then on; between the loss and that renewal, the pool may admit up to one limit more.
/// A release that cannot reach Redis is not retried: its member expires within the TTL, since nothing renews it.
/// </remarks>
internal sealed partial class RedisLeaseTable : ILeaseTable, ILeaseOwner
{
    /// <summary>How long a pool's key outlives the latest expiry written to it.</summary>
    private const long KeyGraceMs = 5_000;

    // KEYS[1]: the pool. ARGV: now, limit, expiry, member, key ttl. Answers {granted, held}.
    private const string AcquireScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        local n = redis.call('ZCARD', KEYS[1])
        if n >= tonumber(ARGV[2]) then return { 0, n } end
        redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
        return { 1, n + 1 }
        """;

    // KEYS[1]: the pool. ARGV: now, key ttl, then (member, expiry) pairs. Answers per member: 1 renewed, 0 expired
    // (removed), 2 missing (released, or lost by Redis).
    private const string RenewScript = """
        local now = tonumber(ARGV[1])
        local out = {}
        local k = 0
        for a = 3, #ARGV, 2 do
          k = k + 1
          local s = redis.call('ZSCORE', KEYS[1], ARGV[a])
          if not s then
            out[k] = 2
          elseif tonumber(s) <= now then
            redis.call('ZREM', KEYS[1], ARGV[a])
            out[k] = 0
          else
            redis.call('ZADD', KEYS[1], ARGV[a + 1], ARGV[a])
            out[k] = 1
          end
        end
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return out
        """;

    // KEYS[1]: the pool. ARGV: key ttl, then (member, expiry) pairs: leases this node holds that Redis no longer has.
    private const string ReassertScript = """
        for a = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], 'NX', ARGV[a + 1], ARGV[a]) end
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return 1
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _node = Ids.New("node");
    private readonly ConcurrentDictionary<long, Held> _held = new();
    private long _next;

    public RedisLeaseTable(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time, ILogger<RedisLeaseTable> logger)
    {
        _redis = redis;
        _keys = keys;
        _time = time;
        _logger = logger;
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public async ValueTask<LeaseAcquisition> TryAcquireAsync(PoolKey pool, int limit, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var token = Interlocked.Increment(ref _next);
        var member = Member(token);
        var now = NowMs;
        var ttlMs = TtlMs(ttl);
        var result = (RedisResult[])(await RedisFailures.Guard(_redis.GetDatabase().ScriptEvaluateAsync(AcquireScript, [_keys.Leases(pool)],
            [now, limit, now + ttlMs, member, ttlMs + KeyGraceMs])).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        var held = (int)(long)result[1];
        if ((long)result[0] != 1)
        {
            return LeaseAcquisition.Refused(held);
        }
        _held[token] = new Held(pool, member, ttlMs, now + ttlMs);
        return LeaseAcquisition.Granted(new Lease(this, token), held);
    }

    public async ValueTask<int> CountAsync(PoolKey pool, CancellationToken cancellationToken = default)
    {
        var live = await RedisFailures.Guard(_redis.GetDatabase().SortedSetLengthAsync(_keys.Leases(pool), NowMs, double.PositiveInfinity, Exclude.Start))
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return (int)live;
    }

    public async ValueTask RenewHeldAsync(CancellationToken cancellationToken = default)
    {
        var now = NowMs;
        var byPool = new Dictionary<PoolKey, List<(long Token, Held Lease)>>();
        foreach (var (token, lease) in _held)
        {
            if (lease.ExpiresAtMs <= now)
            {
                // Not renewed in time: it is gone, wherever the pool is.
                _held.TryRemove(new KeyValuePair<long, Held>(token, lease));
                continue;
            }
            if (!byPool.TryGetValue(lease.Pool, out var list))
            {
                byPool[lease.Pool] = list = [];
            }
            list.Add((token, lease));
        }
        await Task.WhenAll(byPool.Select(pool => RenewPoolAsync(pool.Key, pool.Value, now))).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RenewPoolAsync(PoolKey pool, List<(long Token, Held Lease)> leases, long now)
    {
        var args = new RedisValue[2 + 2 * leases.Count];
        args[0] = now;
        long keyTtl = 0;
        for (var i = 0; i < leases.Count; i++)
        {
            var lease = leases[i].Lease;
            args[2 + 2 * i] = lease.Member;
            args[3 + 2 * i] = now + lease.TtlMs;
            keyTtl = Math.Max(keyTtl, lease.TtlMs + KeyGraceMs);
        }
        args[1] = keyTtl;
        var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(RenewScript, [_keys.Leases(pool)], args).ConfigureAwait(false))!;
        List<(long Token, Held Lease)>? lost = null;
        for (var i = 0; i < leases.Count; i++)
        {
            var (token, lease) = leases[i];
            switch ((long)result[i])
            {
                case 1:
                    Extend(token, lease.TtlMs, now);
                    break;
                case 2:
                    (lost ??= []).Add((token, lease));
                    break;
                default:
                    _held.TryRemove(new KeyValuePair<long, Held>(token, lease));
                    break;
            }
        }
        if (lost is not null)
        {
            await ReassertAsync(pool, lost, now).ConfigureAwait(false);
        }
    }

    /// <summary>Puts back the leases Redis lost (a restart without persistence) that this node still holds.</summary>
    private async Task ReassertAsync(PoolKey pool, List<(long Token, Held Lease)> lost, long now)
    {
        var args = new List<RedisValue> { 0 };
        long keyTtl = 0;
        foreach (var (token, lease) in lost)
        {
            // Released meanwhile: not put back.
            if (_held.ContainsKey(token))
            {
                args.Add(lease.Member);
                args.Add(now + lease.TtlMs);
                keyTtl = Math.Max(keyTtl, lease.TtlMs + KeyGraceMs);
            }
        }
        if (args.Count == 1)
        {
            return;
        }
        args[0] = keyTtl;
        await _redis.GetDatabase().ScriptEvaluateAsync(ReassertScript, [_keys.Leases(pool)], [.. args]).ConfigureAwait(false);
        foreach (var (token, lease) in lost)
        {
            Extend(token, lease.TtlMs, now);
        }
        LogReasserted(_logger, args.Count / 2, pool.OrgId, pool.Model);
    }

    /// <summary>Records a renewal of a lease still held here; false when it was released meanwhile.</summary>
    private bool Extend(long token, long ttlMs, long now)
    {
        while (_held.TryGetValue(token, out var current))
        {
            if (_held.TryUpdate(token, current with { TtlMs = ttlMs, ExpiresAtMs = now + ttlMs }, current))
            {
                return true;
            }
        }
        return false;
    }

    async ValueTask<bool> ILeaseOwner.RenewAsync(long token, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var now = NowMs;
        if (!_held.TryGetValue(token, out var lease))
        {
            return false;
        }
        if (lease.ExpiresAtMs <= now)
        {
            _held.TryRemove(new KeyValuePair<long, Held>(token, lease));
            await RemoveAsync(lease).ConfigureAwait(false);
            return false;
        }
        var ttlMs = TtlMs(ttl);
        var result = (RedisResult[])(await RedisFailures.Guard(_redis.GetDatabase().ScriptEvaluateAsync(RenewScript, [_keys.Leases(lease.Pool)],
            [now, ttlMs + KeyGraceMs, lease.Member, now + ttlMs])).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        switch ((long)result[0])
        {
            case 1:
                return Extend(token, ttlMs, now);
            case 2:
                await ReassertAsync(lease.Pool, [(token, lease with { TtlMs = ttlMs })], now).ConfigureAwait(false);
                return Extend(token, ttlMs, now);
            default:
                _held.TryRemove(new KeyValuePair<long, Held>(token, lease));
                return false;
        }
    }

    async ValueTask ILeaseOwner.ReleaseAsync(long token)
    {
        if (_held.TryRemove(token, out var lease))
        {
            await RemoveAsync(lease).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes a lease's member; never throws (a member left behind expires within its TTL).</summary>
    private async Task RemoveAsync(Held lease)
    {
        try
        {
            await _redis.GetDatabase().SortedSetRemoveAsync(_keys.Leases(lease.Pool), lease.Member).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisFailures.IsUnavailable(ex))
        {
            LogReleaseFailed(_logger, ex, lease.Pool.OrgId, lease.Pool.Model);
        }
    }

    private string Member(long token) => string.Concat(_node, ":", token.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static long TtlMs(TimeSpan ttl) => Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds));

    [LoggerMessage(Level = LogLevel.Warning, Message = "A lease of pool ({OrgId}, {Model}) could not be released in Redis; it expires within its TTL")]
    private static partial void LogReleaseFailed(ILogger logger, Exception ex, string orgId, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis had lost {Count} lease(s) of pool ({OrgId}, {Model}) this node still holds (a restart?); they are counted again")]
    private static partial void LogReasserted(ILogger logger, int count, string orgId, string model);

    private sealed record Held(PoolKey Pool, string Member, long TtlMs, long ExpiresAtMs);
}
