using Microsoft.Extensions.Options;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.RateLimiting;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Sqlite.Metering;

namespace Tollgate.Server.Hosting;

/// <summary>Admission's limits (DESIGN 3.2–3.4): rate windows, concurrency leases, the audio quota and its ledger.</summary>
internal static class LimitsServiceCollectionExtensions
{
    public static IServiceCollection AddLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitSettings>().BindConfiguration(RateLimitOptions.SectionPath).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitSettings>, RateLimitSettingsValidator>();
        services.AddSingleton(sp => new RateLimitPolicy(sp.GetRequiredService<IOptions<RateLimitSettings>>().Value.ToOptions()));
        services.AddSingleton<IWindowCounter>(sp => new InProcessWindowCounter(sp.GetRequiredService<TimeProvider>()));

        services.AddSingleton<ILeaseTable, InProcessLeaseTable>();

        services.AddOptions<QuotaOptions>().BindConfiguration(QuotaOptions.SectionPath).ValidateOnStart();
        services.AddSingleton<IValidateOptions<QuotaOptions>, QuotaOptionsValidator>();
        services.AddSingleton<IUsageLedger>(sp => new SqliteUsageLedger(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IQuotaMeter>(sp => new InProcessQuotaMeter(sp.GetRequiredService<IUsageLedger>().CommittedTotal));
        services.AddSingleton(sp => new AudioQuota(
            sp.GetRequiredService<IQuotaMeter>(), sp.GetRequiredService<IUsageLedger>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<QuotaOptions>>().Value));
        return services;
    }

    /// <summary>A bad rule stops the server at start-up with every problem named by its configuration path.</summary>
    private sealed class RateLimitSettingsValidator : IValidateOptions<RateLimitSettings>
    {
        public ValidateOptionsResult Validate(string? name, RateLimitSettings options) =>
            options.Validate() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }

    private sealed class QuotaOptionsValidator : IValidateOptions<QuotaOptions>
    {
        public ValidateOptionsResult Validate(string? name, QuotaOptions options) =>
            options.Validate().ToList() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
