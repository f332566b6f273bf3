using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Admin.Insights;

/// <summary>One (organization, model) pool now: requests holding a concurrency lease against the most generous active key's limit.</summary>
internal sealed record LiveModelDto(string Model, int InFlight, int? ConcurrencyLimit);

/// <summary>One rule's current window for one user: counted, limit, left, and when it starts again.</summary>
internal sealed record LiveWindowDto(string Rule, string Window, long Limit, long Used, long Remaining, DateTimeOffset ResetAt);

/// <summary>One user's request-rate windows (all keys of a user share them).</summary>
internal sealed record LiveUserDto(string UserId, string Name, DateTimeOffset? DisabledAt, IReadOnlyList<LiveWindowDto> Windows);

/// <summary>
/// The answer of <c>GET /admin/orgs/{orgId}/live</c>: what is happening now. <c>more_users</c> says the organization
/// has more users than the <see cref="LiveStateQuery.MaxUsers"/> shown (the oldest first).
/// </summary>
internal sealed record LiveStateDto(string OrgId, DateTimeOffset At, IReadOnlyList<LiveModelDto> Models, IReadOnlyList<LiveUserDto> Users, bool MoreUsers);

/// <summary>
/// An organization's live state, cheap enough to poll every second: per model the leases held now (one
/// <see cref="ILeaseTable.CountAsync"/> per model: the in-process table or one Redis round trip), and per user the
/// request-rate windows of every rule some surface carries, read without counting a request
/// (<see cref="IWindowCounter.PeekAsync"/>, one round trip per user, all issued at once). Models are those an active
/// key is entitled to.
/// </summary>
internal sealed class LiveStateQuery(IIdentityStore store, ILeaseTable leases, IWindowCounter windows, RateLimitPolicy policy, TimeProvider time)
{
    /// <summary>The most users one answer shows.</summary>
    public const int MaxUsers = 500;

    private readonly RuleSet _rules = CarriedRules(policy);

    /// <summary>The state now, or null when there is no organization <paramref name="orgId"/>.</summary>
    public async Task<LiveStateDto?> GetAsync(string orgId, CancellationToken ct = default)
    {
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var limits = await OrgLimits.ActiveAsync(store, orgId, now, ct);
        var users = await store.PageUsersAsync(orgId, MaxUsers + 1, null, ct);
        var shown = users.Take(MaxUsers).ToList();

        var counts = limits.Keys.Order(StringComparer.Ordinal)
            .Select(async model => new LiveModelDto(model, await leases.CountAsync(new PoolKey(orgId, model), ct), limits[model].Concurrency))
            .ToList();
        var peeks = shown.Select(u => windows.PeekAsync(u.Id, _rules, ct).AsTask()).ToList();
        var models = await Task.WhenAll(counts);
        var usage = await Task.WhenAll(peeks);
        var rows = shown.Select((u, i) => new LiveUserDto(u.Id, u.Name, u.DisabledAt,
            [.. usage[i].Select(w => new LiveWindowDto(w.Rule.Name, w.Rule.WindowText, w.Rule.Limit, w.Used, w.Remaining,
                DateTimeOffset.FromUnixTimeSeconds(w.ResetUnixSeconds)))])).ToList();
        return new LiveStateDto(orgId, now, models, rows, users.Count > MaxUsers);
    }

    /// <summary>Every rule a surface carries, once, in the configuration's order of surfaces and rules.</summary>
    private static RuleSet CarriedRules(RateLimitPolicy policy)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var rules = new List<RateRule>();
        foreach (var surface in RateLimitOptions.KnownSurfaces)
        {
            foreach (var operation in new[] { OperationClass.Safe, OperationClass.Unsafe })
            {
                foreach (var rule in policy.GetRules(surface, operation).Rules)
                {
                    if (seen.Add(rule.Name))
                    {
                        rules.Add(rule);
                    }
                }
            }
        }
        return RuleSet.FromValidated(rules);
    }
}
