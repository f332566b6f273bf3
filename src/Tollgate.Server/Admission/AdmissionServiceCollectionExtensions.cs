using Tollgate.Limits;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Admission;

internal static class AdmissionServiceCollectionExtensions
{
    /// <summary>The admission steps, the rate-limit header cache and the lease renewal.</summary>
    public static IServiceCollection AddAdmission(this IServiceCollection services)
    {
        services.AddValidatedOptions<AuthThrottleOptions>(AuthThrottleOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<AuthFailureThrottle>();
        services.AddSingleton<AuthenticationStep>();
        services.AddSingleton<EntitlementStep>();
        services.AddSingleton<RateWindowStep>();
        services.AddSingleton<ConcurrencyStep>();
        services.AddSingleton<QuotaStep>();
        services.AddSingleton<QuotaUsageNote>();
        services.AddValidatedOptions<RateLimitHeaderOptions>(RateLimitHeaderOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<RateLimitHeaders>();
        services.AddHostedService<LeaseRenewal>();
        services.AddSingleton<RejectionCounter>();
        services.AddSingleton<RejectionFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<RejectionFlusher>());
        return services;
    }
}

/// <summary>
/// Renews every lease this node holds, on one timer, every third of <c>Tollgate:Leases:Ttl</c>: live requests and open
/// WebSockets keep their slots; a node that stops (or dies) stops renewing, and its slots expire within one TTL.
/// </summary>
internal sealed partial class LeaseRenewal(ILeaseTable leases, Microsoft.Extensions.Options.IOptions<LeaseOptions> options, TimeProvider time,
    ILogger<LeaseRenewal> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RenewalInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await leases.RenewHeldAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRenewalFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing this node's concurrency leases failed; retrying on the next tick")]
    private static partial void LogRenewalFailed(ILogger logger, Exception ex);
}
