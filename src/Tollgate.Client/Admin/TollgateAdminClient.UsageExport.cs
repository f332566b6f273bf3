using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Tollgate.Client.Http;

namespace Tollgate.Client.Admin;

public sealed partial class TollgateAdminClient
{
    /// <summary>The response header that carries the next cursor of a CloudEvents page (its body is a bare array).</summary>
    private const string NextCursorHeader = "Tollgate-Next-Cursor";

    /// <summary>One page of an organization's ledger rows (<c>GET /admin/orgs/{orgId}/usage/events</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="options">Month, start time, cursor and page size; default the first 1000 rows of every month.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization; 400 <c>invalid_parameter</c> for a bad month or cursor.</exception>
    public Task<UsageEventsPage> GetUsageEventsPageAsync(string orgId, UsageExportOptions? options = null, CancellationToken cancellationToken = default) =>
        GetAsync(UsageEventsPath(orgId, options ?? new UsageExportOptions(), options?.Cursor, cloudEvents: false),
            UsageExportJsonContext.Default.UsageEventsPage, cancellationToken);

    /// <summary>
    /// Every ledger row of an organization that <paramref name="options"/> selects, oldest first, fetched a page at a
    /// time as they are enumerated. Rows sharing a millisecond are neither skipped nor repeated between pages.
    /// </summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="options">Month, start time, cursor and page size; default every row.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization; 400 <c>invalid_parameter</c> for a bad month or cursor.</exception>
    public async IAsyncEnumerable<UsageEvent> ExportUsageAsync(
        string orgId, UsageExportOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new UsageExportOptions();
        var cursor = options.Cursor;
        UsageEventsPage page;
        do
        {
            page = await GetAsync(UsageEventsPath(orgId, options, cursor, cloudEvents: false),
                UsageExportJsonContext.Default.UsageEventsPage, cancellationToken).ConfigureAwait(false);
            foreach (var row in page.Events)
            {
                yield return row;
            }
            cursor = page.Next;
        }
        while (page.HasMore);
    }

    /// <summary>
    /// The same rows as <see cref="ExportUsageAsync"/>, each as the server's CloudEvents 1.0 JSON event (<c>id</c> = the
    /// request id, <c>type</c> <c>com.tollgate.usage.audio</c>, <c>source</c> <c>/tollgate/orgs/{orgId}</c>, <c>subject</c>
    /// the user), ready to send on as a batch to a CloudEvents consumer such as OpenMeter.
    /// </summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="options">Month, start time, cursor and page size; default every row.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization; 400 <c>invalid_parameter</c> for a bad month or cursor.</exception>
    public async IAsyncEnumerable<JsonElement> ExportUsageCloudEventsAsync(
        string orgId, UsageExportOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new UsageExportOptions();
        var cursor = options.Cursor;
        bool hasMore;
        do
        {
            using var request = CreateRequest(HttpMethod.Get, UsageEventsPath(orgId, options, cursor, cloudEvents: true));
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            await ApiErrors.ThrowIfErrorAsync(response, _time, cancellationToken).ConfigureAwait(false);
            var events = await response.Content.ReadFromJsonAsync(UsageExportJsonContext.Default.ListJsonElement, cancellationToken).ConfigureAwait(false)
                ?? throw new TollgateApiException(response.StatusCode, null, "The server answered with an empty body.");
            foreach (var e in events)
            {
                yield return e;
            }
            // The body is the bare batch: whether another page follows is the Link header's rel="next".
            hasMore = response.Headers.TryGetValues("Link", out var links) && links.Any(l => l.Contains("rel=\"next\"", StringComparison.Ordinal));
            if (hasMore)
            {
                cursor = response.Headers.TryGetValues(NextCursorHeader, out var next) ? next.First()
                    : throw new TollgateApiException(response.StatusCode, null, $"The server said another page follows but sent no {NextCursorHeader} header.");
            }
        }
        while (hasMore);
    }

    private static string UsageEventsPath(string orgId, UsageExportOptions options, string? cursor, bool cloudEvents)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PageSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.PageSize, 1000, nameof(options));
        var path = new StringBuilder($"admin/orgs/{Segment(orgId)}/usage/events?limit=")
            .Append(options.PageSize.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(options.Month))
        {
            path.Append("&month=").Append(Uri.EscapeDataString(options.Month));
        }
        if (options.Since is { } since)
        {
            path.Append("&since=").Append(Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)));
        }
        if (!string.IsNullOrEmpty(cursor))
        {
            path.Append("&cursor=").Append(Uri.EscapeDataString(cursor));
        }
        if (cloudEvents)
        {
            path.Append("&format=cloudevents");
        }
        return path.ToString();
    }
}
