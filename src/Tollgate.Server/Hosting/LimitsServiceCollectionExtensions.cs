using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Observability;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Hosting;

/// <summary>Admission's limits (DESIGN 3.2–3.4): rate windows, concurrency leases, the audio quota over the store's ledger; Tollgate's metrics.</summary>
internal static class LimitsServiceCollectionExtensions
{
    public static IServiceCollection AddLimits(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton(sp => new TollgateMetrics(sp.GetRequiredService<IMeterFactory>().Create(TollgateMetrics.MeterName)));

        services.AddValidatedOptions<RateLimitSettings>(RateLimitOptions.SectionPath, static o => o.Validate());
        services.AddSingleton(sp => new RateLimitPolicy(sp.GetRequiredService<IOptions<RateLimitSettings>>().Value.ToOptions()));
        services.AddSingleton<IWindowCounter>(sp => new InProcessWindowCounter(sp.GetRequiredService<TimeProvider>()));

        services.AddValidatedOptions<LeaseOptions>(LeaseOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<ILeaseTable>(sp => new InProcessLeaseTable(sp.GetRequiredService<TimeProvider>()));

        services.AddValidatedOptions<QuotaOptions>(QuotaOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<IQuotaMeter>(sp => new InProcessQuotaMeter(sp.GetRequiredService<IUsageLedger>()));
        services.AddSingleton(sp => new AudioQuota(
            sp.GetRequiredService<IQuotaMeter>(), sp.GetRequiredService<IUsageLedger>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<QuotaOptions>>().Value,
            sp.GetRequiredService<TollgateMetrics>()));
        return services;
    }
}
