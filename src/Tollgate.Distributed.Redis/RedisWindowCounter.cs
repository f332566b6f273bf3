using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;
using Tollgate.RateLimiting;
using Tollgate.Threading;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// Rate windows in Redis: one Lua script per decision checks every rule's counter and, only when all have room, counts
/// the request in all of them — one round trip, all-or-nothing, linearizable per user because Redis runs a script
/// alone. A counter is one hash per (user, rule, window length) holding the window index it counts and its count;
/// all of a user's counters share the user's hash tag, hence one Cluster slot. The window index comes from the node's
/// clock; a counter already in a later window keeps counting there (as the in-process counter does when its clock
/// steps back), so a node whose clock lags never opens a second budget for the same time. Each key expires shortly
/// after its window ends. The decision is then made by the same code as the in-process counter's, so the headers
/// are those one node gives.
/// </summary>
internal sealed class RedisWindowCounter(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time) : IWindowCounter
{
    /// <summary>How long a counter outlives its window (clock skew between nodes).</summary>
    private const long GraceMs = 5_000;

    // KEYS[k]: the counter of rule k. ARGV[1]: now (Unix ms); then per rule: window index wanted, limit, window (ms).
    // Answers {admitted, count_1..count_n, index_1..index_n} after the decision.
    private const string Script = """
        local n = #KEYS
        local now = tonumber(ARGV[1])
        local idx, cnt = {}, {}
        local admitted = 1
        for k = 1, n do
          local want = tonumber(ARGV[3 * k - 1])
          local limit = tonumber(ARGV[3 * k])
          local v = redis.call('HMGET', KEYS[k], 'i', 'c')
          local i = tonumber(v[1])
          local c = tonumber(v[2]) or 0
          if i == nil or want > i then
            i = want
            c = 0
          end
          idx[k] = i
          cnt[k] = c
          if c >= limit then admitted = 0 end
        end
        if admitted == 1 then
          for k = 1, n do
            cnt[k] = cnt[k] + 1
            local w = tonumber(ARGV[3 * k + 1])
            redis.call('HSET', KEYS[k], 'i', idx[k], 'c', cnt[k])
            redis.call('PEXPIRE', KEYS[k], math.max(1, (idx[k] + 1) * w - now) + tonumber(ARGV[2 + 3 * n]))
          end
        end
        local out = { admitted }
        for k = 1, n do out[1 + k] = cnt[k] end
        for k = 1, n do out[1 + n + k] = idx[k] end
        return out
        """;

    // KEYS[k]: the counter of rule k. Answers {index_1, count_1, …} as stored (false when a counter does not exist):
    // one round trip reads every rule at one instant, and writes nothing.
    private const string PeekScript = """
        local out = {}
        for k = 1, #KEYS do
          local v = redis.call('HMGET', KEYS[k], 'i', 'c')
          out[2 * k - 1] = v[1]
          out[2 * k] = v[2]
        end
        return out
        """;

    public async ValueTask<IReadOnlyList<WindowUsage>> PeekAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        ArgumentNullException.ThrowIfNull(rules);
        cancellationToken.ThrowIfCancellationRequested();
        var items = rules.Items;
        if (items.Length == 0)
        {
            return [];
        }
        var nowTicks = FixedWindow.UnixTicks(time.GetUtcNow());
        var redisKeys = new RedisKey[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            redisKeys[i] = keys.Window(partition, items[i].Name, items[i].Window);
        }
        var result = (RedisResult[])(await RedisFailures.Guard(redis.GetDatabase().ScriptEvaluateAsync(PeekScript, redisKeys)).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        var usage = new WindowUsage[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var rule = items[i];
            var index = FixedWindow.Index(nowTicks, rule.WindowTicks);
            long count = 0;
            // Lua turns a missing field (nil) into false, which ends the reply array there: a short reply means "no counter".
            if (2 * i + 1 < result.Length && !result[2 * i].IsNull && !result[2 * i + 1].IsNull
                && (long)result[2 * i] is var stored && stored >= index)
            {
                (index, count) = (stored, (long)result[2 * i + 1]);
            }
            usage[i] = new WindowUsage(rule, count, FixedWindow.ToUnixSeconds((index + 1) * rule.WindowTicks));
        }
        return usage;
    }

    private const int MaxCachedPartitions = 100_000;

    // EVALSHA by the script's SHA-1 (as Redis names it): sent as is, where the script's text makes the client look its
    // hash up per call and build a message list for a possible SCRIPT LOAD. NOSCRIPT is answered below, by the text.
    // (SE.Redis 3.4's ScriptEvaluateRespAsync reads the reply without a RedisResult per element and lets the ARGV array
    // be reused, 216 B less per decision, but in alternated runs it cost more CPU per request than this, and Redis read
    // its commands in smaller batches: bench/README, issue 12.)
    private static readonly byte[] ScriptHash = SHA1.HashData(Encoding.UTF8.GetBytes(Script));

    // The counters' keys of each (rule set, user): rule sets are the policy's own, few and long-lived.
    private readonly ConcurrentDictionary<RuleSet, ConcurrentDictionary<string, RedisKey[]>> _keys = new(ReferenceEqualityComparer.Instance);

    /// <remarks>
    /// Not an <c>async</c> method: the wait for the reply is a pooled continuation (as the rate-window step's above it),
    /// where even a pooling builder's state machine box was allocated per decision while dozens waited at once.
    /// </remarks>
    public ValueTask<WindowDecision> TryAcquireAsync(string partition, RuleSet rules, CancellationToken cancellationToken = default)
    {
        try
        {
            ArgumentException.ThrowIfNullOrEmpty(partition);
            ArgumentNullException.ThrowIfNull(rules);
            cancellationToken.ThrowIfCancellationRequested();
            if (rules.IsEmpty)
            {
                return default;
            }
            var items = rules.Items;
            var nowTicks = FixedWindow.UnixTicks(time.GetUtcNow());
            var database = redis.GetDatabase();
            var redisKeys = KeysOf(partition, rules);

            // The script runs whether or not the caller is still there, so the wait is not cut short by the caller's token
            // (Redis's own timeout bounds it): a token that can be cancelled would cost every request a registration.
            var reply = database.ScriptEvaluateAsync(ScriptHash, redisKeys, Arguments(items, nowTicks));
            return PooledContinuation<RedisResult, Call, WindowDecision>.Start(new ValueTask<RedisResult>(reply),
                new Call(database, redisKeys, items, nowTicks), static (call, reply) => Decide(call.Items, reply, call.NowTicks),
                static (call, failure) => RecoverAsync(call, failure));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<WindowDecision>(RedisFailures.AsUnavailable(ex));
        }
    }

    /// <summary>What a decision in flight needs again to be decided, or sent again.</summary>
    private readonly record struct Call(IDatabase Database, RedisKey[] Keys, RateRule[] Items, long NowTicks);

    /// <summary>The call failed: NOSCRIPT is answered by the script's text, "Redis did not answer" is said so.</summary>
    private static async ValueTask<WindowDecision> RecoverAsync(Call call, Exception failure)
    {
        if (failure is not RedisServerException noScript || !noScript.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            ExceptionDispatchInfo.Throw(RedisFailures.AsUnavailable(failure));
        }
        // Redis does not know the script (first use, restarted, failed over): its text makes SE.Redis load it again.
        var reply = await RedisFailures.Guard(call.Database.ScriptEvaluateAsync(Script, call.Keys, Arguments(call.Items, call.NowTicks))).ConfigureAwait(false);
        return Decide(call.Items, reply, call.NowTicks);
    }

    /// <summary>ARGV of <see cref="Script"/> for a decision at <paramref name="nowTicks"/> (the message keeps the array).</summary>
    private static RedisValue[] Arguments(RateRule[] items, long nowTicks)
    {
        var args = new RedisValue[2 + 3 * items.Length];
        args[0] = nowTicks / TimeSpan.TicksPerMillisecond;
        for (var i = 0; i < items.Length; i++)
        {
            var rule = items[i];
            args[1 + 3 * i] = FixedWindow.Index(nowTicks, rule.WindowTicks);
            args[2 + 3 * i] = rule.Limit;
            args[3 + 3 * i] = rule.WindowTicks / TimeSpan.TicksPerMillisecond;
        }
        args[^1] = GraceMs;
        return args;
    }

    // {admitted, count_1..count_n, index_1..index_n}
    private static WindowDecision Decide(RateRule[] items, RedisResult reply, long nowTicks)
    {
        var result = (RedisResult[])reply!;
        if (result.Length != 1 + 2 * items.Length)
        {
            throw new InvalidOperationException($"The window script answered {result.Length} values where {1 + 2 * items.Length} were expected.");
        }
        var admitted = (long)result[0] == 1;
        Span<long> counts = stackalloc long[items.Length];
        Span<long> ends = stackalloc long[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            counts[i] = (long)result[1 + i];
            ends[i] = ((long)result[1 + items.Length + i] + 1) * items[i].WindowTicks;
        }
        return WindowVerdict.Decide(items, counts, ends, admitted, nowTicks);
    }

    private RedisKey[] KeysOf(string partition, RuleSet rules)
    {
        var byPartition = _keys.GetOrAdd(rules, static _ => new ConcurrentDictionary<string, RedisKey[]>(StringComparer.Ordinal));
        if (byPartition.TryGetValue(partition, out var known))
        {
            return known;
        }
        var items = rules.Items;
        var made = new RedisKey[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            made[i] = keys.Window(partition, items[i].Name, items[i].Window);
        }
        if (byPartition.Count >= MaxCachedPartitions)
        {
            byPartition.Clear();
        }
        byPartition[partition] = made;
        return made;
    }
}
