using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Tollgate.Dubbing;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// Moves dubs and voices on in the background, at most <c>Tollgate:Dubbing:Workers</c> at once. On start it seeds the
/// stock voices and picks up whatever a previous run left mid-way (every step is durable and idempotent); then it
/// waits to be signalled (a preprocess, generate or clone) or polls. On stop it cancels work in flight and waits for
/// it: a dub interrupted mid-step stays in its last durable status and is resumed by the next start.
/// </summary>
internal sealed partial class DubbingWorker(
    DubbingService dubbing,
    IDubbingStore store,
    IOptions<DubbingOptions> options,
    TimeProvider time,
    ILogger<DubbingWorker> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.UpsertStockVoicesAsync(VoiceLibrary.Stock, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var slots = new SemaphoreSlim(settings.Workers);
        var poll = TimeSpan.FromSeconds(settings.PollSeconds);
        var first = true;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Taken before looking, so a signal that arrives while we look is not lost.
                var signal = dubbing.WorkSignal;
                try
                {
                    var dubs = await store.PendingDubsAsync(stoppingToken);
                    var voices = await store.PendingVoicesAsync(stoppingToken);
                    if (first && dubs.Count + voices.Count > 0)
                    {
                        LogResuming(logger, dubs.Count, voices.Count);
                    }
                    first = false;
                    foreach (var dub in dubs)
                    {
                        Start("dub:" + dub.Id, slots, ct => RunDubAsync(dub.Id, ct), stoppingToken);
                    }
                    foreach (var voice in voices)
                    {
                        Start("voice:" + voice.Id, slots, ct => dubbing.TrainAsync(voice, ct), stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogScanFailed(logger, ex);
                }
                await Task.WhenAny(signal, Task.Delay(poll, time, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await Task.WhenAll(_running.Values);
        }
    }

    private void Start(string key, SemaphoreSlim slots, Func<CancellationToken, Task> work, CancellationToken ct)
    {
        if (_running.ContainsKey(key))
        {
            return;
        }
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = RunAsync(key, slots, work, gate.Task, ct);
        if (_running.TryAdd(key, task))
        {
            gate.SetResult();
        }
        else
        {
            gate.SetCanceled(CancellationToken.None);
        }
    }

    /// <summary>One job in one slot; never throws (a failure is logged and retried on a later pass).</summary>
    private async Task RunAsync(string key, SemaphoreSlim slots, Func<CancellationToken, Task> work, Task registered, CancellationToken ct)
    {
        try
        {
            await registered;
        }
        catch (OperationCanceledException)
        {
            return; // someone else runs this job
        }
        try
        {
            await slots.WaitAsync(ct);
            try
            {
                await work(ct);
            }
            finally
            {
                slots.Release();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex, key);
        }
        finally
        {
            _running.TryRemove(key, out _);
        }
    }

    private async Task RunDubAsync(string dubId, CancellationToken ct)
    {
        // Read again once a slot is ours: the dub may have moved on since it was listed.
        var current = await store.GetDubAsync(dubId, ct);
        while (current is not null && DubLifecycle.IsWorkPending(current.Status))
        {
            ct.ThrowIfCancellationRequested();
            current = await dubbing.AdvanceAsync(current, ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming dubbing work left by a previous run: {Dubs} dubs, {Voices} voices")]
    private static partial void LogResuming(ILogger logger, int dubs, int voices);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dubbing work on {Key} failed; it is retried on the next pass")]
    private static partial void LogFailed(ILogger logger, Exception ex, string key);

    [LoggerMessage(Level = LogLevel.Error, Message = "Looking for pending dubbing work failed; retrying on the next pass")]
    private static partial void LogScanFailed(ILogger logger, Exception ex);
}
