using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Microsoft.Net.Http.Headers;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admin;

/// <summary>One ledger row as the export shows it: who was charged how many milliseconds of which model, when, by which request.</summary>
internal sealed record UsageEventDto(
    string RequestId,
    string OrgId,
    string UserId,
    string KeyId,
    string Model,
    long Milliseconds,
    [property: Description("The month (YYYY-MM, UTC) the row counts toward: the month the call was admitted in, as the usage report counts it.")]
    string Month,
    [property: Description("When the charge was recorded (RFC 3339, UTC, to the millisecond).")]
    DateTimeOffset Time);

/// <summary>The JSON answer of <c>GET /admin/orgs/{orgId}/usage/events</c>.</summary>
internal sealed record UsageEventsPageDto(
    string OrgId,
    IReadOnlyList<UsageEventDto> Events,
    [property: Description("Where to read on from: pass it back as cursor= (with the same month/since). Null only when nothing was read yet.")]
    string? Next,
    [property: Description("Whether more rows exist right now after this page.")]
    bool HasMore);

/// <summary>The <c>data</c> of a usage CloudEvent.</summary>
internal sealed record UsageCloudEventData(string Model, long Milliseconds, string OrgId, string UserId, string KeyId, string Month);

/// <summary>
/// One ledger row as a CloudEvents 1.0 event (JSON format): <c>id</c> is the request id, so an event sent twice is one
/// event to a consumer that deduplicates by <c>source</c> and <c>id</c> (OpenMeter does).
/// </summary>
internal sealed record UsageCloudEventDto(
    [property: JsonPropertyName("specversion")] string SpecVersion,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("source"), Description("/tollgate/orgs/{orgId}")] string Source,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("subject"), Description("The user charged (user id).")] string Subject,
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("datacontenttype")] string DataContentType,
    [property: JsonPropertyName("data")] UsageCloudEventData Data);

/// <summary>
/// <c>GET /admin/orgs/{orgId}/usage/events</c>: an organization's ledger rows, oldest first, a page at a time, as JSON or
/// as a CloudEvents batch, for billing. The ledger is the record quotas are enforced from, so what is exported for a
/// month adds up to that month's usage report to the millisecond.
/// </summary>
internal static partial class UsageExport
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const string CloudEventsBatch = "application/cloudevents-batch+json";
    public const string EventType = "com.tollgate.usage.audio";
    public const string NextCursorHeader = "Tollgate-Next-Cursor";

    /// <summary>Maps the export on the Admin API's group (its token filter and tags come with it).</summary>
    public static void MapUsageExport(this RouteGroupBuilder admin)
    {
        admin.MapGet("/orgs/{orgId}/usage/events", GetAsync).WithName("ExportUsageEvents")
            .WithSummary("Page through an organization's ledger rows, oldest first, as JSON or as CloudEvents (for billing).")
            .WithDescription($"""
                Rows in (time, request id) order; `next` is where to read on from (pass it back as `cursor`, with the same
                `month`/`since`), `has_more` whether more rows exist now. With `format=cloudevents` or
                `Accept: {CloudEventsBatch}` the rows are a CloudEvents 1.0 JSON batch (`id` = request id, `type` =
                `{EventType}`, `source` = `/tollgate/orgs/<orgId>`, `subject` = the user); the cursor is then in the
                `{NextCursorHeader}` header, and a `Link: <…>; rel="next"` header points at the next page while there is one.
                """)
            .Produces<UsageEventsPageDto>()
            // Produces<T> keeps one type per status: the CloudEvents batch is added beside the JSON page here.
            .AddOpenApiOperationTransformer(DescribeAsync)
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest)
            .Produces<ErrorBody>(StatusCodes.Status404NotFound)
            .Produces<ErrorBody>(StatusCodes.Status401Unauthorized)
            .Produces<ErrorBody>(StatusCodes.Status403Forbidden)
            .Produces<ErrorBody>(StatusCodes.Status429TooManyRequests)
            // An organization's admin exports their own organization's usage, as they read its report.
            .Scoped(AdminScope.Organization);
    }

    /// <summary>The 200's second media type (the CloudEvents batch), and <c>limit</c> as the integer it is.</summary>
    private static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content is { } content)
        {
            content[CloudEventsBatch] = new OpenApiMediaType { Schema = await context.GetOrCreateSchemaAsync(typeof(List<UsageCloudEventDto>), null, ct) };
        }
        if (operation.Parameters?.FirstOrDefault(p => p.Name == "limit") is OpenApiParameter limit)
        {
            limit.Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" };
        }
    }

    private static async Task<IResult> GetAsync(
        string orgId,
        [FromQuery, Description("Only rows charged to this month (YYYY-MM, UTC), as the usage report counts them.")] string? month,
        [FromQuery, Description("Only rows recorded at or after this RFC 3339 time, e.g. 2026-05-01T00:00:00Z.")] string? since,
        [FromQuery, Description("The `next` of the previous page: read on after it.")] string? cursor,
        [FromQuery, Description("Rows per page, 1 to 1000 (default 100).")] string? limit,
        [FromQuery, Description("json (default) or cloudevents; or send Accept: application/cloudevents-batch+json.")] string? format,
        HttpContext http, IIdentityStore store, IUsageLedger ledger, TimeProvider time, CancellationToken ct)
    {
        var query = new UsageChargeQuery(orgId, DefaultLimit + 1);
        if (month is not null)
        {
            if (!MonthPeriod.TryParse(month, out var period))
            {
                return Invalid($"Invalid month='{month}'. Expected YYYY-MM, e.g. {MonthPeriod.Current(time)}.");
            }
            query = query with { Period = period };
        }
        if (since is not null)
        {
            if (ParseTime(since) is not { } from)
            {
                return Invalid($"Invalid since='{since}'. Expected an RFC 3339 time such as 2026-05-01T00:00:00Z (a '+' offset must be sent as %2B).");
            }
            query = query with { Since = from };
        }
        if (cursor is not null)
        {
            if (Cursor.Decode(cursor) is not { } after)
            {
                return Invalid($"Invalid cursor='{cursor}'. Pass back the 'next' of an earlier page unchanged.");
            }
            query = query with { After = after };
        }
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            return Invalid($"Invalid limit='{limit}'. Expected a whole number from 1 to {MaxLimit}.");
        }
        bool cloudEvents;
        switch (format)
        {
            case null:
                cloudEvents = PrefersCloudEvents(http.Request);
                break;
            case "json":
                cloudEvents = false;
                break;
            case "cloudevents":
                cloudEvents = true;
                break;
            default:
                return Invalid($"Invalid format='{format}'. Expected json or cloudevents.");
        }
        if (await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No organization '{orgId}'.");
        }

        // One row more than asked for says whether another page follows, without a second query.
        var rows = await ledger.PageAsync(query with { Limit = pageSize + 1 }, ct);
        var hasMore = rows.Count > pageSize;
        var page = hasMore ? rows.Take(pageSize).ToList() : rows;
        var next = page.Count > 0 ? Cursor.Encode(LedgerPosition.Of(page[^1])) : cursor;
        if (next is not null)
        {
            http.Response.Headers[NextCursorHeader] = next;
        }
        if (hasMore)
        {
            http.Response.Headers.Link = $"<{NextPageUrl(http.Request, next!)}>; rel=\"next\"";
        }
        if (cloudEvents)
        {
            return TypedResults.Json(page.Select(ToCloudEvent).ToList(), contentType: CloudEventsBatch);
        }
        return TypedResults.Ok(new UsageEventsPageDto(orgId, [.. page.Select(ToEvent)], next, hasMore));
    }

    internal static UsageEventDto ToEvent(UsageCharge c) =>
        new(c.RequestId, c.OrgId, c.UserId, c.KeyId, c.Model, c.Milliseconds, c.Period.ToString(), c.At);

    internal static UsageCloudEventDto ToCloudEvent(UsageCharge c) =>
        new("1.0", c.RequestId, Source(c.OrgId), EventType, c.UserId, c.At, "application/json",
            new UsageCloudEventData(c.Model, c.Milliseconds, c.OrgId, c.UserId, c.KeyId, c.Period.ToString()));

    /// <summary>The CloudEvents <c>source</c> of an organization's rows: the same on every node and every export, so deduplication by (source, id) holds.</summary>
    internal static string Source(string orgId) => "/tollgate/orgs/" + Uri.EscapeDataString(orgId);

    private static IResult Invalid(string detail) => ApiError.Result(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, detail);

    /// <summary>Whether the client's <c>Accept</c> ranks the CloudEvents batch above plain JSON.</summary>
    private static bool PrefersCloudEvents(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }
        double Quality(string type) => accepted
            .Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1.0).DefaultIfEmpty(-1).Max();
        var events = Quality(CloudEventsBatch);
        return events > 0 && events >= Quality("application/json");
    }

    /// <summary>RFC 3339 date-time only (<c>2026-05-01T00:00:00Z</c>, <c>…+02:00</c>); a <c>+</c> that a query string turned into a space is read back as <c>+</c>.</summary>
    internal static DateTimeOffset? ParseTime(string text)
    {
        var match = Rfc3339().Match(text);
        if (!match.Success)
        {
            return null;
        }
        var normalized = text.Replace(' ', '+');
        return DateTimeOffset.TryParse(normalized, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,7})?([Zz]|[+\- ]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    /// <summary>This request's URL with <c>cursor</c> set to <paramref name="next"/> (the other parameters kept).</summary>
    private static string NextPageUrl(HttpRequest request, string next)
    {
        var query = new StringBuilder();
        foreach (var (name, values) in request.Query.Where(q => q.Key != "cursor"))
        {
            foreach (var value in values)
            {
                query.Append(query.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
            }
        }
        query.Append(query.Length == 0 ? '?' : '&').Append("cursor=").Append(next);
        return request.PathBase + request.Path + query.ToString();
    }

    /// <summary>
    /// The <c>next</c> cursor: the last row's (time, request id), base64url so it is one opaque query value. Built from
    /// the row itself, not from a counter, so it means the same on every node and after any restart.
    /// </summary>
    internal static class Cursor
    {
        private const int MaxRequestIdLength = 256;

        public static string Encode(LedgerPosition position) =>
            System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
                string.Create(CultureInfo.InvariantCulture, $"{position.At.ToUnixTimeMilliseconds()}:{position.RequestId}")));

        public static LedgerPosition? Decode(string cursor)
        {
            if (cursor.Length is 0 or > 2 * MaxRequestIdLength)
            {
                return null;
            }
            byte[] bytes;
            try
            {
                bytes = System.Buffers.Text.Base64Url.DecodeFromChars(cursor);
            }
            catch (FormatException)
            {
                return null;
            }
            string text;
            try
            {
                text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == text.Length - 1 || text.Length - colon - 1 > MaxRequestIdLength
                || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            {
                return null;
            }
            return new LedgerPosition(DateTimeOffset.FromUnixTimeMilliseconds(ms), text[(colon + 1)..]);
        }
    }
}
