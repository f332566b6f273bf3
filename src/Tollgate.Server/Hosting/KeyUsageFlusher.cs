using Tollgate.Identity;

namespace Tollgate.Server.Hosting;

/// <summary>Writes keys' last-used times to the store every few seconds (and at shutdown), never per request.</summary>
internal sealed partial class KeyUsageFlusher(KeyAuthenticator authenticator, IIdentityStore store, TimeProvider time, ILogger<KeyUsageFlusher> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        var used = authenticator.DrainLastUsed();
        if (used.Count == 0)
        {
            return;
        }
        try
        {
            await store.TouchKeysAsync(used, ct);
        }
        catch (Exception ex)
        {
            LogFlushFailed(logger, ex, used.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record last-used times of {Count} keys")]
    private static partial void LogFlushFailed(ILogger logger, Exception ex, int count);
}
