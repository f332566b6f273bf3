namespace Tollgate.Metering;

/// <summary>
/// How many requests admission refused with one status and code, for one organization, in one UTC hour. Requests
/// whose organization is not known (an unknown or malformed key) count under <see cref="OrgId"/> null.
/// </summary>
/// <param name="OrgId">The caller's organization, or null when no key identified one.</param>
/// <param name="Hour">The start of the UTC hour (minutes, seconds and below are zero).</param>
/// <param name="Status">The HTTP status answered (401, 403, 429, 503 …).</param>
/// <param name="Code">The error code of the answer's body (<c>invalid_api_key</c>, <c>rate_limited</c> …).</param>
/// <param name="Count">How many.</param>
public readonly record struct RejectionCount(string? OrgId, DateTimeOffset Hour, int Status, string Code, long Count)
{
    /// <summary>The start of the UTC hour that contains <paramref name="at"/>.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        return new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerHour, TimeSpan.Zero);
    }
}

/// <summary>
/// Durable counts of admission refusals per (organization, hour, status, code): every node adds what it counted since
/// its last write, so the totals are those of all nodes together, and a count once added is never lost.
/// </summary>
public interface IRejectionStore
{
    /// <summary>Adds each count to its (organization, hour, status, code) total, creating it when missing, all in one transaction.</summary>
    Task AddAsync(IReadOnlyCollection<RejectionCount> counts, CancellationToken ct = default);

    /// <summary>
    /// The totals of organization <paramref name="orgId"/> (null: the requests of no known organization) for the hours
    /// starting at or after <paramref name="since"/>, in (hour, status, code) order.
    /// </summary>
    Task<IReadOnlyList<RejectionCount>> ListAsync(string? orgId, DateTimeOffset since, CancellationToken ct = default);
}
