using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admin;

/// <summary>
/// What the ledger charged one key, or one user through all their keys, per model in a month: one aggregate query
/// (<see cref="IUsageLedger.MonthTotalsByAsync"/>), so the figures add up to the organization's report to the millisecond.
/// </summary>
internal static class ChargedUsage
{
    public static async Task<IResult> ForKeyAsync(string keyId, string? month, IIdentityStore store, IUsageLedger ledger, TimeProvider time, CancellationToken ct)
    {
        if (ReadMonth(month, time, out var period) is { } bad)
        {
            return bad;
        }
        if (await store.GetKeyAsync(keyId, ct) is not { } key)
        {
            return AdminResults.KeyNotFound(keyId);
        }
        return TypedResults.Ok(Dto(key.OrgId, key.UserId, key.Id, period, await ledger.MonthTotalsByAsync(key.OrgId, period, null, key.Id, ct)));
    }

    public static async Task<IResult> ForUserAsync(string userId, string? month, IIdentityStore store, IUsageLedger ledger, TimeProvider time, CancellationToken ct)
    {
        if (ReadMonth(month, time, out var period) is { } bad)
        {
            return bad;
        }
        if (await store.GetUserAsync(userId, ct) is not { } user)
        {
            return AdminResults.UserNotFound(userId);
        }
        return TypedResults.Ok(Dto(user.OrgId, user.Id, null, period, await ledger.MonthTotalsByAsync(user.OrgId, period, user.Id, null, ct)));
    }

    private static IResult? ReadMonth(string? month, TimeProvider time, out MonthPeriod period)
    {
        var current = MonthPeriod.Current(time);
        period = current;
        return month is not null && !MonthPeriod.TryParse(month, out period)
            ? ApiError.Result(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, $"Invalid month='{month}'. Expected YYYY-MM, e.g. {current}.")
            : null;
    }

    private static ChargedUsageDto Dto(string orgId, string userId, string? keyId, MonthPeriod period, IReadOnlyList<ModelUsageTotal> totals)
    {
        var used = totals.Sum(t => t.Milliseconds);
        return new ChargedUsageDto(orgId, userId, keyId, period.ToString(), used, ToHours(used), totals.Sum(t => t.Charges),
            [.. totals.Select(t => new ChargedModelDto(t.Model, t.Milliseconds, ToHours(t.Milliseconds), t.Charges))]);
    }

    private static double ToHours(long ms) => Math.Round(ms / 3_600_000d, 6);
}
