namespace Tollgate.Server.Admin.Insights;

/// <summary>
/// The read models behind the console's usage, live and activity pages (and their Admin API endpoints,
/// <see cref="AdminInsightsApi"/>): each a singleton the console can call in-process.
/// </summary>
internal static class InsightsServiceCollectionExtensions
{
    public static IServiceCollection AddAdminInsights(this IServiceCollection services)
    {
        services.AddSingleton<DailyUsageQuery>();
        services.AddSingleton<LiveStateQuery>();
        services.AddSingleton<RejectionsQuery>();
        services.AddSingleton<OrgActivityQuery>();
        return services;
    }
}
