using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tollgate.Limits;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// Keeps this node's quota reservations alive while their requests run, every third of <c>Tollgate:Leases:Ttl</c> (as
/// the lease renewal does for leases), and delivers commits Redis missed; a node that dies stops, and its
/// reservations expire within one TTL.
/// </summary>
internal sealed partial class RedisQuotaRenewal(RedisQuotaMeter meter, IOptions<LeaseOptions> options, TimeProvider time,
    ILogger<RedisQuotaRenewal> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RenewalInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await meter.RenewHeldAsync(stoppingToken).ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing this node's quota reservations in Redis failed; retrying on the next tick")]
    private static partial void LogRenewalFailed(ILogger logger, Exception ex);
}
