using System.Globalization;
using StackExchange.Redis;
using Tollgate.Limits;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// Every key Tollgate keeps in Redis. Each carries a hash tag (the part in braces) naming its tenant — the user for
/// rate windows, the organization for leases and quotas — so that every key one decision touches lives in one Redis
/// Cluster slot and one Lua script can read and write them all.
/// </summary>
internal sealed class RedisKeys(string prefix)
{
    public string Prefix { get; } = prefix;

    /// <summary>One rate-rule counter of a user: (user, rule name ignoring case, window length), as the contract identifies it.</summary>
    public RedisKey Window(string partition, string ruleName, TimeSpan window) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}:rw:{{{partition}}}:{ruleName.ToLowerInvariant()}:{(long)window.TotalSeconds}");

    /// <summary>The sorted set of one (organization, model) pool's leases, scored by expiry.</summary>
    public RedisKey Leases(PoolKey pool) => $"{Prefix}:ls:{{{pool.OrgId}}}:{pool.Model}";

    /// <summary>One organization's quota state in one month: committed and reserved per model, the reservations.</summary>
    public RedisKey Quota(string orgId, MonthPeriod period) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}:qm:{{{orgId}}}:{period.Index}");

    /// <summary>The reservations of <see cref="Quota"/> scored by expiry (same slot).</summary>
    public RedisKey QuotaExpiries(string orgId, MonthPeriod period) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}:qm:{{{orgId}}}:{period.Index}:exp");

    /// <summary>The pub/sub channel cache invalidations travel on.</summary>
    public RedisChannel Invalidations => RedisChannel.Literal($"{Prefix}:invalidate");
}
