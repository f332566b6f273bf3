using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// Monthly quotas in Redis: one hash per (organization, month) holds, per model and for the organization's total
/// (<c>*</c>), what is committed and what is reserved, and every reservation in flight; a sorted set beside it (same
/// hash tag, same slot) orders the reservations by expiry. Each call is one Lua script that first drops expired
/// reservations and then decides across the model pool and the organization cap at once, so parallel requests through
/// any nodes never together pass a limit.
/// </summary>
/// <remarks>
/// <para>
/// Reservations expire: each carries the lease TTL, renewed by <see cref="RenewHeldAsync"/> while its request runs,
/// so a node that dies mid-request leaves nothing reserved past one TTL.
/// </para>
/// <para>
/// Committed totals come from the ledger, the durable record. A month's state is "seeded" once: a script that finds it
/// unseeded answers with the state's epoch, the node reads the ledger's totals and writes them with that epoch, and
/// the write only takes if the epoch has not moved meanwhile. Every commit the current seed may not have counted bumps
/// the epoch and un-seeds the state (so the next call reads the ledger again, which holds the charge): a commit whose
/// reservation was made under the current seed (its generation) adds to the committed total, as its ledger row was
/// written after that seed's read; one whose reservation was made under another seed, expired, or that Redis lost,
/// forces a reseed instead. So a race between a seed and a commit can neither count a charge twice nor lose it.
/// A commit or release that cannot reach Redis never fails the request (the ledger already holds the charge): the
/// month is reseeded once Redis answers again, and the reservation expires on its own.
/// </para>
/// </remarks>
internal sealed partial class RedisQuotaMeter : IQuotaMeter
{
    /// <summary>Reservation ids start far above the in-process meter's, so a fail-open meter can tell them apart.</summary>
    internal const long FirstId = 1L << 40;

    private const int MaxSeedAttempts = 5;

    /// <summary>How long a month's state outlives the month (it is re-seeded from the ledger if asked for later).</summary>
    private static readonly TimeSpan KeepAfterMonth = TimeSpan.FromDays(35);

    // Shared by every script: KEYS[1] the state hash, KEYS[2] the expiry set; ARGV[1] now (Unix ms), ARGV[2] key ttl (ms).
    private const string Prelude = """
        local state, expiries = KEYS[1], KEYS[2]
        local now = tonumber(ARGV[1])
        local function num(field) return tonumber(redis.call('HGET', state, field) or '0') end
        local function parse(x)
          local model, ms, gen = string.match(x, '^(.*)|(%d+)|(.*)$')
          return model, tonumber(ms), gen
        end
        local function drop(member)
          redis.call('ZREM', expiries, member)
          local x = redis.call('HGET', state, 'x:' .. member)
          if not x then return nil end
          local model, ms, gen = parse(x)
          redis.call('HINCRBY', state, 'r:' .. model, -ms)
          redis.call('HINCRBY', state, 'r:*', -ms)
          redis.call('HDEL', state, 'x:' .. member)
          return model, ms, gen
        end
        local function keep()
          redis.call('PEXPIRE', state, ARGV[2])
          redis.call('PEXPIRE', expiries, ARGV[2])
        end
        -- The epoch a seed must still find when it writes. A state Redis lost starts from a new one (the server's
        -- clock in microseconds), so a seed begun before the loss cannot take after it.
        local function epoch()
          local e = redis.call('HGET', state, 'e')
          if not e then
            local t = redis.call('TIME')
            e = t[1] .. string.format('%06d', tonumber(t[2]))
            redis.call('HSET', state, 'e', e)
            keep()
          end
          return e
        end
        local function unseed()
          local fields = redis.call('HKEYS', state)
          for _, f in ipairs(fields) do
            if string.sub(f, 1, 2) == 'c:' then redis.call('HDEL', state, f) end
          end
          redis.call('HDEL', state, 'g')
          epoch()
          redis.call('HINCRBY', state, 'e', 1)
        end
        for _, m in ipairs(redis.call('ZRANGEBYSCORE', expiries, '-inf', now, 'LIMIT', 0, 512)) do drop(m) end
        local gen = redis.call('HGET', state, 'g')
        local function room(model, limit, cap)
          local modelRoom = math.max(0, limit - num('c:' .. model) - num('r:' .. model))
          if cap <= 0 then return modelRoom, 0 end
          local orgRoom = math.max(0, cap - num('c:*') - num('r:*'))
          if orgRoom < modelRoom then return orgRoom, 1 end
          return modelRoom, 0
        end

        """;

    // ARGV[3] member, [4] model, [5] ms, [6] exact (1) or up to (0), [7] limit, [8] cap, [9] expiry.
    // Answers {-1, epoch} when unseeded, else {granted, remaining after, limited by the cap}.
    private const string ReserveScript = Prelude + """
        if not gen then return { -1, epoch() } end
        local member, model, ms = ARGV[3], ARGV[4], tonumber(ARGV[5])
        local r, capped = room(model, tonumber(ARGV[7]), tonumber(ARGV[8]))
        local granted = math.min(ms, r)
        if ARGV[6] == '1' and ms > r then granted = 0 end
        local x = redis.call('HGET', state, 'x:' .. member)
        if granted > 0 then
          local held, heldGen = 0, gen
          if x then
            local _, m, g = parse(x)
            held, heldGen = m, g
          end
          redis.call('HSET', state, 'x:' .. member, model .. '|' .. string.format('%d', held + granted) .. '|' .. heldGen)
          redis.call('HINCRBY', state, 'r:' .. model, granted)
          redis.call('HINCRBY', state, 'r:*', granted)
        end
        if granted > 0 or x then redis.call('ZADD', expiries, ARGV[9], member) end
        keep()
        return { granted, r - granted, capped }
        """;

    // ARGV[3] member, [4] model, [5] charged. Answers 1 when counted, 0 when the state was un-seeded instead.
    private const string CommitScript = Prelude + """
        local model, charged = ARGV[4], tonumber(ARGV[5])
        local _, _, heldGen = drop(ARGV[3])
        keep()
        if gen and heldGen == gen then
          redis.call('HINCRBY', state, 'c:' .. model, charged)
          redis.call('HINCRBY', state, 'c:*', charged)
          return 1
        end
        unseed()
        return 0
        """;

    // ARGV[3] member.
    private const string ReleaseScript = Prelude + """
        drop(ARGV[3])
        return 1
        """;

    // ARGV[3..]: members to keep, then their expiry (ARGV[3] is the expiry, ARGV[4..] the members).
    private const string RenewScript = Prelude + """
        for a = 4, #ARGV do
          if redis.call('HEXISTS', state, 'x:' .. ARGV[a]) == 1 then redis.call('ZADD', expiries, ARGV[3], ARGV[a]) end
        end
        keep()
        return 1
        """;

    // ARGV[3] model, [4] limit, [5] cap. Answers {-1, epoch} or {remaining, limited by the cap}.
    private const string StandingScript = Prelude + """
        if not gen then return { -1, epoch() } end
        local r, capped = room(ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
        return { r, capped }
        """;

    // ARGV[3] model. Answers {-1, epoch} or {committed, reserved}.
    private const string UsageScript = Prelude + """
        if not gen then return { -1, epoch() } end
        return { num('c:' .. ARGV[3]), num('r:' .. ARGV[3]) }
        """;

    // ARGV[3] epoch read before the ledger, [4] new generation, then (model, ms) pairs. Answers 1 when seeded (now or
    // by someone else), 0 when the epoch moved (read the ledger again).
    private const string SeedScript = Prelude + """
        if gen then return 1 end
        if redis.call('HGET', state, 'e') ~= ARGV[3] then return 0 end
        for a = 5, #ARGV, 2 do redis.call('HSET', state, 'c:' .. ARGV[a], ARGV[a + 1]) end
        redis.call('HSET', state, 'g', ARGV[4])
        keep()
        return 1
        """;

    // Un-seeds the month: a commit this node could not deliver is in the ledger, not in Redis.
    private const string UnseedScript = Prelude + """
        unseed()
        keep()
        return 1
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly IUsageLedger _ledger;
    private readonly TimeProvider _time;
    private readonly long _ttlMs;
    private readonly ILogger _logger;
    private readonly string _node = Ids.New("node");
    private readonly ConcurrentDictionary<long, Held> _held = new();
    private readonly ConcurrentDictionary<(string OrgId, int Month), MonthPeriod> _undelivered = new();
    private long _nextId = FirstId;

    public RedisQuotaMeter(IConnectionMultiplexer redis, RedisKeys keys, IUsageLedger ledger, TimeProvider time, TimeSpan reservationTtl,
        ILogger<RedisQuotaMeter> logger)
    {
        _redis = redis;
        _keys = keys;
        _ledger = ledger;
        _time = time;
        _ttlMs = Math.Max(1, (long)reservationTtl.TotalMilliseconds);
        _logger = logger;
    }

    public async ValueTask<QuotaGrant> ReserveAsync(QuotaReservation reservation, long ms, ReserveMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ms);
        if (reservation.Id == 0)
        {
            reservation = reservation with { Id = Interlocked.Increment(ref _nextId) };
        }
        var scope = reservation.Scope;
        var now = NowMs;
        var result = await EvaluateSeededAsync(scope.OrgId, scope.Period, ReserveScript, now,
            [Member(reservation.Id), scope.Model, ms, mode == ReserveMode.Exact ? 1 : 0, scope.LimitMs, scope.OrgCapMs, now + _ttlMs],
            cancellationToken).ConfigureAwait(false);
        var granted = (long)result[0];
        var grown = reservation with { Milliseconds = reservation.Milliseconds + granted };
        if (grown.Milliseconds > 0)
        {
            _held[reservation.Id] = new Held(scope.OrgId, scope.Period);
        }
        return new QuotaGrant(grown, granted, (long)result[1], (long)result[2] == 1);
    }

    public async ValueTask CommitAsync(QuotaReservation reservation, long chargedMs, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chargedMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chargedMs, reservation.Milliseconds);
        if (reservation.Milliseconds == 0)
        {
            return;
        }
        _held.TryRemove(reservation.Id, out _);
        var scope = reservation.Scope;
        try
        {
            await EvaluateAsync(scope.OrgId, scope.Period, CommitScript, NowMs, [Member(reservation.Id), scope.Model, chargedMs]).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisFailures.IsUnavailable(ex))
        {
            // The ledger holds the charge; Redis will read it from there once it answers again.
            _undelivered[(scope.OrgId, scope.Period.Index)] = scope.Period;
            LogCommitUndelivered(_logger, ex, scope.OrgId, scope.Period.ToString());
        }
    }

    public async ValueTask ReleaseAsync(QuotaReservation reservation, CancellationToken cancellationToken = default)
    {
        if (reservation.Milliseconds == 0)
        {
            return;
        }
        _held.TryRemove(reservation.Id, out _);
        var scope = reservation.Scope;
        try
        {
            await EvaluateAsync(scope.OrgId, scope.Period, ReleaseScript, NowMs, [Member(reservation.Id)]).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisFailures.IsUnavailable(ex))
        {
            LogReleaseUndelivered(_logger, ex, scope.OrgId, scope.Period.ToString());
        }
    }

    public async ValueTask<QuotaStanding> StandingAsync(QuotaScope scope, CancellationToken cancellationToken = default)
    {
        var result = await EvaluateSeededAsync(scope.OrgId, scope.Period, StandingScript, NowMs, [scope.Model, scope.LimitMs, scope.OrgCapMs],
            cancellationToken).ConfigureAwait(false);
        return new QuotaStanding((long)result[0], (long)result[1] == 1);
    }

    public async ValueTask<PoolUsage> UsageAsync(PoolKey pool, MonthPeriod period, CancellationToken cancellationToken = default)
    {
        var result = await EvaluateSeededAsync(pool.OrgId, period, UsageScript, NowMs, [pool.Model], cancellationToken).ConfigureAwait(false);
        return new PoolUsage((long)result[0], (long)result[1]);
    }

    /// <summary>
    /// Keeps the reservations of requests still running alive for another TTL, and un-seeds the months whose commits
    /// could not be delivered (so they are read from the ledger again). The node calls it on the lease renewal's timer.
    /// </summary>
    public async Task RenewHeldAsync(CancellationToken cancellationToken = default)
    {
        var now = NowMs;
        foreach (var (key, period) in _undelivered)
        {
            await EvaluateAsync(key.OrgId, period, UnseedScript, now, []).ConfigureAwait(false);
            _undelivered.TryRemove(new KeyValuePair<(string, int), MonthPeriod>(key, period));
            LogReseeding(_logger, key.OrgId, period.ToString());
        }
        var byMonth = _held.GroupBy(pair => pair.Value, pair => pair.Key);
        await Task.WhenAll(byMonth.Select(month =>
        {
            var args = new List<RedisValue> { now + _ttlMs };
            args.AddRange(month.Select(id => (RedisValue)Member(id)));
            return EvaluateAsync(month.Key.OrgId, month.Key.Period, RenewScript, now, [.. args]);
        })).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a script that needs the month seeded, seeding it from the ledger first when the script says so.</summary>
    private async Task<RedisResult[]> EvaluateSeededAsync(string orgId, MonthPeriod period, string script, long now, RedisValue[] args,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var result = await EvaluateAsync(orgId, period, script, now, args).WaitAsync(cancellationToken).ConfigureAwait(false);
            if ((long)result[0] != -1)
            {
                return result;
            }
            if (attempt == MaxSeedAttempts)
            {
                throw new RedisException($"The quota state of {orgId} for {period} could not be seeded from the ledger after {MaxSeedAttempts} attempts (commits kept racing the seed).");
            }
            await SeedAsync(orgId, period, (string)result[1]!, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the ledger's totals and writes them if the state's epoch is still <paramref name="epoch"/>.</summary>
    private async Task SeedAsync(string orgId, MonthPeriod period, string epoch, CancellationToken cancellationToken)
    {
        var totals = await _ledger.MonthTotalsAsync(orgId, period, cancellationToken).ConfigureAwait(false);
        var args = new List<RedisValue> { epoch, Guid.NewGuid().ToString("N") };
        long all = 0;
        foreach (var total in totals)
        {
            args.Add(total.Model);
            args.Add(total.Milliseconds);
            all += total.Milliseconds;
        }
        args.Add(QuotaScope.AllModels);
        args.Add(all);
        await EvaluateAsync(orgId, period, SeedScript, NowMs, [.. args]).ConfigureAwait(false);
    }

    private async Task<RedisResult[]> EvaluateAsync(string orgId, MonthPeriod period, string script, long now, RedisValue[] args)
    {
        var all = new RedisValue[2 + args.Length];
        all[0] = now;
        all[1] = KeyTtlMs(period, now);
        args.CopyTo(all, 2);
        var result = await RedisFailures.Guard(_redis.GetDatabase().ScriptEvaluateAsync(script,
            [_keys.Quota(orgId, period), _keys.QuotaExpiries(orgId, period)], all)).ConfigureAwait(false);
        return result.Resp2Type == ResultType.Array ? (RedisResult[])result! : [result];
    }

    /// <summary>Until well after the month ends (at least the reservation TTL), relative to now.</summary>
    private long KeyTtlMs(MonthPeriod period, long now) =>
        Math.Max(period.End.ToUnixTimeMilliseconds() - now, 0) + (long)KeepAfterMonth.TotalMilliseconds + _ttlMs;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private string Member(long id) => string.Concat(_node, ":", id.ToString(CultureInfo.InvariantCulture));

    [LoggerMessage(Level = LogLevel.Warning, Message = "A commit of {OrgId} ({Month}) could not reach Redis; the ledger holds it and the month is read from the ledger again once Redis answers")]
    private static partial void LogCommitUndelivered(ILogger logger, Exception ex, string orgId, string month);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A reservation of {OrgId} ({Month}) could not be released in Redis; it expires within its TTL")]
    private static partial void LogReleaseUndelivered(ILogger logger, Exception ex, string orgId, string month);

    [LoggerMessage(Level = LogLevel.Information, Message = "The quota state of {OrgId} ({Month}) is read from the ledger again: a commit had not reached Redis")]
    private static partial void LogReseeding(ILogger logger, string orgId, string month);

    private readonly record struct Held(string OrgId, MonthPeriod Period);
}
