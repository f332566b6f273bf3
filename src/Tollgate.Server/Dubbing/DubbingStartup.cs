using Tollgate.Dubbing;
using Tollgate.Jobs;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// Gets dubbing ready before the job engine starts: seeds the stock voices and enqueues the
/// job of every dub and voice with work pending (idempotently: most already have theirs), so whatever a previous run
/// left mid-way — even one made before dubbing ran on jobs — is resumed.
/// </summary>
internal sealed partial class DubbingStartup(IDubbingStore store, JobQueue jobs, ILogger<DubbingStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.UpsertStockVoicesAsync(VoiceLibrary.Stock, cancellationToken);
        var (dubs, voices) = await DubbingJobs.EnqueuePendingAsync(store, jobs, cancellationToken);
        if (dubs + voices > 0)
        {
            LogResuming(logger, dubs, voices);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming dubbing work left by a previous run: {Dubs} dubs, {Voices} voices")]
    private static partial void LogResuming(ILogger logger, int dubs, int voices);
}
