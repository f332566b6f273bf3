using Microsoft.Extensions.Options;
using Tollgate.Blobs;
using Tollgate.Dubbing;
using Tollgate.Jobs;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// Gets dubbing ready before the job engine starts: seeds the stock voices and enqueues the
/// job of every dub and voice with work pending (idempotently: most already have theirs), so whatever a previous run
/// left mid-way — even one made before dubbing ran on jobs — is resumed. It also removes the files a crash left
/// without their record (an input stored just before its dub, a sample just before its voice), once they are older
/// than <c>Tollgate:Leftovers:MinimumAge</c>.
/// </summary>
internal sealed partial class DubbingStartup(
    IDubbingStore store, JobQueue jobs, IBlobStore blobs, IOptions<LeftoverOptions> leftovers, TimeProvider time, ILogger<DubbingStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.UpsertStockVoicesAsync(VoiceLibrary.Stock, cancellationToken);
        var (dubs, voices) = await DubbingJobs.EnqueuePendingAsync(store, jobs, cancellationToken);
        if (dubs + voices > 0)
        {
            LogResuming(logger, dubs, voices);
        }
        var orphans = await RemoveOrphansAsync(cancellationToken);
        if (orphans > 0)
        {
            LogOrphans(logger, orphans);
        }
    }

    /// <summary>Dubbing blobs whose dub or voice does not exist (or no longer names that sample).</summary>
    private async Task<int> RemoveOrphansAsync(CancellationToken ct)
    {
        var cutoff = time.GetUtcNow() - leftovers.Value.MinimumAgeValue;
        var removed = 0;
        await foreach (var blob in blobs.ListAsync(DubbingBlobs.Folder + "/", ct))
        {
            if (blob.LastModified >= cutoff || await IsReferencedAsync(Path.GetFileName(blob.Key), ct))
            {
                continue;
            }
            await blobs.DeleteAsync(blob.Key, ct);
            removed++;
        }
        return removed;
    }

    private async Task<bool> IsReferencedAsync(string name, CancellationToken ct)
    {
        var extension = Path.GetExtension(name);
        if (extension is ".input" or ".wav")
        {
            return await store.GetDubAsync(Path.GetFileNameWithoutExtension(name), ct) is not null;
        }
        if (extension == ".sample" && name.LastIndexOf('_') is > 0 and var cut)
        {
            // A sample is named <voice id>_<random>.sample; only the one the voice names is in use.
            return await store.GetVoiceAsync(name[..cut], ct) is { SampleFile: var inUse } && inUse == name;
        }
        return true; // not a name the workflow writes: left alone
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming dubbing work left by a previous run: {Dubs} dubs, {Voices} voices")]
    private static partial void LogResuming(ILogger logger, int dubs, int voices);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} dubbing file(s) no dub or voice refers to (left by an interrupted request)")]
    private static partial void LogOrphans(ILogger logger, int count);
}
