using System.Text.Json.Serialization.Metadata;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Server.Http;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// <c>GET /v1/me</c>, the Dubbing API's hottest read: the user, the organization and the organization's credits this
/// month, all three from the store caches (exact for the caller's own writes, see <see cref="Caching.CachingDubbingStore"/>).
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
            balance.Allowance, balance.Used, balance.Left, PeriodName(balance.Period), balance.Period.End), Type);
    }

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
