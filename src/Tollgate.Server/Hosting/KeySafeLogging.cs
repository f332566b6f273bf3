namespace Tollgate.Server.Hosting;

/// <summary>
/// Keys must never reach a log. ASP.NET Core's hosting diagnostics log every request's full URL (query
/// string included) at Information, and Kestrel logs bad request lines at Debug: a WebSocket's
/// <c>?api_key=</c> would land in the log. Those categories are held at Warning whatever the
/// configuration says; Tollgate logs its own request lines without query strings.
/// <para>
/// The hosting diagnostics category is held off entirely. Above Warning it only repeats the host's own start-up
/// failure log, and while any level of it is enabled ASP.NET Core gives every request an <c>Activity</c> and a log
/// scope for it (about 770 B per request, half of what the admission path allocated). With a tracer listening
/// (an OpenTelemetry exporter) requests still get their <c>Activity</c>, from the tracer's subscription.
/// </para>
/// </summary>
internal static class KeySafeLogging
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private static readonly string[] UrlLoggingCategories =
    [
        "Microsoft.AspNetCore.Server.Kestrel.BadRequests",
        "Microsoft.AspNetCore.Http.Result",
        "Microsoft.AspNetCore.HttpLogging",
        "Microsoft.AspNetCore.W3CLogging",
    ];

    public static ILoggingBuilder AddKeySafeLogging(this ILoggingBuilder logging)
    {
        // After configuration is bound, so these rules come last and win over same-category settings.
        logging.Services.PostConfigure<LoggerFilterOptions>(options =>
        {
            foreach (var category in UrlLoggingCategories)
            {
                options.Rules.Add(new LoggerFilterRule(null, category, LogLevel.Warning, null));
            }
            options.Rules.Add(new LoggerFilterRule(null, HostingDiagnostics, LogLevel.None, null));
        });
        return logging;
    }
}
