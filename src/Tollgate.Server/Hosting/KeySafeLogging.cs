namespace Tollgate.Server.Hosting;

/// <summary>
/// Keys must never reach a log. ASP.NET Core's hosting diagnostics log every request's full URL (query
/// string included) at Information, and Kestrel logs bad request lines at Debug: a WebSocket's
/// <c>?api_key=</c> would land in the log. Those categories are held at Warning whatever the
/// configuration says; Tollgate logs its own request lines without query strings.
/// </summary>
internal static class KeySafeLogging
{
    private static readonly string[] UrlLoggingCategories =
    [
        "Microsoft.AspNetCore.Hosting.Diagnostics",
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
        });
        return logging;
    }
}
