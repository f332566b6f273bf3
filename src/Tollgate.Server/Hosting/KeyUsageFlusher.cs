using Tollgate.Identity;

namespace Tollgate.Server.Hosting;

/// <summary>Writes keys' last-used times to the store every few seconds (and at shutdown), never per request.</summary>
internal sealed partial class KeyUsageFlusher(KeyAuthenticator authenticator, IIdentityStore store, TimeProvider time, ILogger<KeyUsageFlusher> logger)
    : PeriodicFlusher(Interval, time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public override async Task FlushAsync(CancellationToken ct)
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
