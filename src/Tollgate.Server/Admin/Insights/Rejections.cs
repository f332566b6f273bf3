using Tollgate.Identity;
using Tollgate.Metering;

namespace Tollgate.Server.Admin.Insights;

/// <summary>How many refusals answered one status with one code.</summary>
internal sealed record RejectionReasonDto(int Status, string Code, long Count);

/// <summary>One UTC hour: its refusals in all and by reason.</summary>
internal sealed record RejectionHourDto(DateTimeOffset Hour, long Total, IReadOnlyList<RejectionReasonDto> ByReason);

/// <summary>
/// The answer of <c>GET /admin/orgs/{orgId}/rejections?hours=</c> (and of <c>GET /admin/rejections</c>, with
/// <c>org_id</c> null: the requests no key identified): the refusals of the last <c>hours</c> UTC hours (the current
/// one included) by status and code, and per hour (every hour present, oldest first).
/// </summary>
internal sealed record RejectionsDto(string? OrgId, DateTimeOffset Since, int Hours, long Total, IReadOnlyList<RejectionReasonDto> ByReason, IReadOnlyList<RejectionHourDto> Series);

/// <summary>
/// Recent admission refusals (401, 403, 429, 503 …) by reason, from the durable counts every node adds to every two
/// seconds (<see cref="IRejectionStore"/>): the figures of all nodes together, up to two seconds behind.
/// </summary>
internal sealed class RejectionsQuery(IRejectionStore rejections, IIdentityStore store, TimeProvider time)
{
    public const int DefaultHours = 24;
    public const int MaxHours = 24 * 7;

    /// <summary>The last <paramref name="hours"/> hours of <paramref name="orgId"/> (null: of no known organization), or null when there is no such organization.</summary>
    public async Task<RejectionsDto?> GetAsync(string? orgId, int hours = DefaultHours, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hours, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hours, MaxHours);
        if (orgId is not null && await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return null;
        }
        var since = RejectionCount.HourOf(time.GetUtcNow()).AddHours(1 - hours);
        var rows = await rejections.ListAsync(orgId, since, ct);
        var byHour = rows.ToLookup(r => r.Hour);
        var series = Enumerable.Range(0, hours).Select(i => since.AddHours(i)).Select(hour =>
        {
            var reasons = Reasons(byHour[hour]);
            return new RejectionHourDto(hour, reasons.Sum(r => r.Count), reasons);
        }).ToList();
        var all = Reasons(rows);
        return new RejectionsDto(orgId, since, hours, all.Sum(r => r.Count), all, series);
    }

    private static List<RejectionReasonDto> Reasons(IEnumerable<RejectionCount> rows) =>
        [.. rows.GroupBy(r => (r.Status, r.Code)).OrderBy(g => g.Key.Status).ThenBy(g => g.Key.Code, StringComparer.Ordinal)
            .Select(g => new RejectionReasonDto(g.Key.Status, g.Key.Code, g.Sum(r => r.Count)))];
}
