using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tollgate.Client.Admin;

/// <summary>What an export of <see cref="TollgateAdminClient.ExportUsageAsync"/> reads: a month, a time on, or on from a cursor.</summary>
public sealed record UsageExportOptions
{
    /// <summary>Only the rows charged to this month, <c>YYYY-MM</c> (UTC), as the usage report counts them; default every month.</summary>
    public string? Month { get; init; }

    /// <summary>Only the rows recorded at or after this time; default from the first row.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Read on after this cursor (a <see cref="UsageEventsPage.Next"/> kept from an earlier export); default from the start.</summary>
    public string? Cursor { get; init; }

    /// <summary>Rows per request, 1 to 1000; default 1000.</summary>
    public int PageSize { get; init; } = 1000;
}

/// <summary>One ledger row: audio charged to an organization's pool by one request.</summary>
/// <param name="RequestId">The request that was charged; unique, so a row read twice is recognisable.</param>
/// <param name="OrgId">The organization.</param>
/// <param name="UserId">The user whose key made the request.</param>
/// <param name="KeyId">The key's id.</param>
/// <param name="Model">The model, e.g. <c>velma-2-stt-batch</c>.</param>
/// <param name="Milliseconds">Audio charged, in milliseconds.</param>
/// <param name="Month">The month (<c>YYYY-MM</c>, UTC) the row counts toward: the month the request was admitted in.</param>
/// <param name="Time">When the charge was recorded (UTC, to the millisecond).</param>
public sealed record UsageEvent(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("key_id")] string KeyId,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("milliseconds")] long Milliseconds,
    [property: JsonPropertyName("month")] string Month,
    [property: JsonPropertyName("time")] DateTimeOffset Time);

/// <summary>One page of <c>GET /admin/orgs/{orgId}/usage/events</c>.</summary>
/// <param name="OrgId">The organization.</param>
/// <param name="Events">The rows, oldest first (time, then request id).</param>
/// <param name="Next">Where to read on from (pass it as <see cref="UsageExportOptions.Cursor"/>); <see langword="null"/> only when nothing was read yet.</param>
/// <param name="HasMore">Whether more rows exist now after this page.</param>
public sealed record UsageEventsPage(
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("events")] IReadOnlyList<UsageEvent> Events,
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("has_more")] bool HasMore);

/// <summary>Source-generated JSON for the usage export.</summary>
[JsonSerializable(typeof(UsageEventsPage))]
[JsonSerializable(typeof(List<JsonElement>))]
internal sealed partial class UsageExportJsonContext : JsonSerializerContext;
