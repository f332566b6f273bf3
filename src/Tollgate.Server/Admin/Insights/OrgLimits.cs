using Tollgate.Identity;

namespace Tollgate.Server.Admin.Insights;

/// <summary>
/// What an organization's active keys allow per model: the most generous key's monthly audio and concurrency (each
/// request is judged by its own key, so that is the most any request of the pool can reach). Revoked and expired keys
/// allow nothing.
/// </summary>
internal static class OrgLimits
{
    public static async Task<IReadOnlyDictionary<string, PoolLimit>> ActiveAsync(IIdentityStore store, string orgId, DateTimeOffset now, CancellationToken ct)
    {
        var limits = new Dictionary<string, PoolLimit>(StringComparer.Ordinal);
        foreach (var key in await store.ListKeysAsync(orgId, ct))
        {
            if (key.IsRevoked || key.IsExpiredAt(now))
            {
                continue;
            }
            foreach (var (model, l) in key.Models)
            {
                limits[model] = limits.TryGetValue(model, out var seen)
                    ? new PoolLimit(Math.Max(seen.Concurrency, l.Concurrency), Math.Max(seen.MonthlyAudioMs, l.MonthlyAudioMs))
                    : new PoolLimit(l.Concurrency, l.MonthlyAudioMs);
            }
        }
        return limits;
    }

    public static double ToHours(long ms) => Math.Round(ms / 3_600_000d, 6);
}

/// <summary>The most generous active key's limits of one (organization, model) pool.</summary>
internal readonly record struct PoolLimit(int Concurrency, long MonthlyAudioMs);
