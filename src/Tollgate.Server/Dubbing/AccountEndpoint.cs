using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Server.Http;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// <c>GET /v1/me</c>, the Dubbing API's hottest read: the user, the organization and the organization's credits this
/// month, all three from the store caches, and the calling key's models with their limits (made once per key record) (exact for the caller's own writes, see <see cref="Caching.CachingDubbingStore"/>).
/// A cache hit costs no allocation but the answer's bytes: the caches hand out completed tasks, the services are
/// resolved once from the root provider (no per-request DI scope: all three are singletons), and the body is written
/// by <see cref="JsonAnswer"/>.
/// </summary>
internal sealed class AccountEndpoint(IServiceProvider services)
{
    private static readonly JsonTypeInfo<AccountDto> Type = DubbingJson.TypeInfo<AccountDto>();

    private DubbingRequests? _dubbing;
    private IIdentityStore? _identity;
    private PeriodText? _period;

    public async Task GetAsync(HttpContext context)
    {
        var caller = DubbingApi.Caller(context);
        var ct = context.RequestAborted;
        var identity = _identity ??= services.GetRequiredService<IIdentityStore>();
        var dubbing = _dubbing ??= services.GetRequiredService<DubbingRequests>();
        var org = await identity.GetOrganizationAsync(caller.OrgId, ct);
        var user = await identity.GetUserAsync(caller.UserId, ct);
        var balance = await dubbing.BalanceAsync(caller.OrgId, ct);
        await JsonAnswer.WriteAsync(context.Response, new AccountDto(caller.UserId, user?.Name, caller.OrgId, org?.Name, caller.KeyId,
            balance.Allowance, balance.Used, balance.Left, PeriodName(balance.Period), balance.Period.End,
            KeyModels.GetValue(caller.Key, static key => Models(key))), Type);
    }

    /// <summary>
    /// Each key record's <c>models</c>, in name order: a key's entitlements never change, and the identity cache hands out
    /// one record per key until it is invalidated, so a record is a correct cache key and a dropped record drops its entry.
    /// </summary>
    private static readonly ConditionalWeakTable<ApiKeyRecord, IReadOnlyDictionary<string, AccountModelDto>> KeyModels = new();

    private static IReadOnlyDictionary<string, AccountModelDto> Models(ApiKeyRecord key) =>
        key.Models.OrderBy(m => m.Key, StringComparer.Ordinal)
            .ToDictionary(m => m.Key, m => new AccountModelDto(m.Value.Concurrency, m.Value.MonthlyAudioHours), StringComparer.Ordinal);

    /// <summary>The month's name, made once a month rather than once a request.</summary>
    private string PeriodName(MonthPeriod period)
    {
        var known = _period;
        if (known is null || known.Period != period)
        {
            _period = known = new PeriodText(period, period.ToString());
        }
        return known.Text;
    }

    private sealed record PeriodText(MonthPeriod Period, string Text);
}
