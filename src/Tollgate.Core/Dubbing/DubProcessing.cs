using System.IO.Pipelines;
using Tollgate.Audio;
using Tollgate.Blobs;
using Tollgate.Jobs;

namespace Tollgate.Dubbing;

/// <summary>
/// The background half of a dub's life, run as <c>dub</c> jobs: preprocessing (measuring and pricing the input) and,
/// once generation is accepted, starting, rendering through the <see cref="IDubProcessor"/> and keeping the result.
/// Each step is stored before the next and can run again after a crash with the same outcome, so a job cut short
/// anywhere is simply run again and takes up where the stored status says. Inputs and results are blobs
/// (<see cref="DubbingBlobs"/>), each written whole or not at all.
/// </summary>
internal sealed class DubProcessing(IDubbingStore store, IBlobStore blobs, TimeProvider time, IDubProcessingGate gate, IDubProcessor processor) : IJobHandler
{
    public string Kind => DubbingJobs.DubKind;

    /// <summary>Moves the job's dub on step by step until it needs nothing more (preprocessed, done or error).</summary>
    public async Task<JobOutcome> RunAsync(Job job, CancellationToken ct)
    {
        // Read once the job is ours: the dub may have moved on since the job was enqueued.
        var current = await store.GetDubAsync(job.Subject, ct);
        while (current is not null && DubLifecycle.IsWorkPending(current.Status))
        {
            ct.ThrowIfCancellationRequested();
            current = await AdvanceAsync(current, ct);
        }
        return JobOutcome.Done;
    }

    /// <summary>A dub whose work keeps failing ends in error (its credits refunded) rather than waiting for ever.</summary>
    public async Task FailedAsync(Job job, string reason, CancellationToken ct)
    {
        var dub = await store.GetDubAsync(job.Subject, ct);
        while (dub is not null && DubLifecycle.IsWorkPending(dub.Status))
        {
            var failed = Step(dub, DubStatus.Error) with
            {
                ErrorCode = DubbingCodes.ProcessingFailed,
                ErrorMessage = "Processing this dub failed repeatedly; any credits it was charged are refunded.",
            };
            if (await SaveAsync(failed, dub.Status, ct) is not null)
            {
                return;
            }
            dub = await store.GetDubAsync(job.Subject, ct);
        }
    }

    private Dub Step(Dub dub, DubStatus to) => DubLifecycle.Step(dub, to, Timestamps.Now(time));

    /// <summary>
    /// Moves one dub on by one durable step; returns the dub as stored afterwards, or null when it needs nothing more
    /// (or someone else moved it). Each step is idempotent: after a crash it is simply taken again.
    /// </summary>
    public async Task<Dub?> AdvanceAsync(Dub dub, CancellationToken ct)
    {
        switch (dub.Status)
        {
            case DubStatus.Preprocessing:
                return await StoreAsync(await PreprocessedAsync(dub, ct), dub.Status, ct);
            case DubStatus.Queued:
                var hasInput = await blobs.ExistsAsync(DubbingBlobs.Input(dub.Id), ct);
                return await StoreAsync(hasInput ? Step(dub, DubStatus.Starting) : InputMissing(dub), dub.Status, ct);
            case DubStatus.Starting:
                return await StoreAsync(Step(dub, DubStatus.Processing), dub.Status, ct);
            case DubStatus.Processing:
                await gate.WaitAsync(dub, ct);
                return await StoreAsync(await RenderAsync(dub, ct), dub.Status, ct);
            case DubStatus.Finalizing:
                // A result lost before the dub was done (the folder was cleaned, say) is rendered again.
                var hasResult = await blobs.ExistsAsync(DubbingBlobs.Result(dub.Id), ct);
                return await StoreAsync(Step(dub, hasResult ? DubStatus.Done : DubStatus.Processing), dub.Status, ct);
            default:
                return null;
        }
    }

    private async Task<Dub> PreprocessedAsync(Dub dub, CancellationToken ct)
    {
        ProbeResult probe;
        await using (var input = await blobs.OpenReadAsync(DubbingBlobs.Input(dub.Id), ct))
        {
            if (input is null)
            {
                return InputMissing(dub);
            }
            probe = AudioProbe.Probe(input);
        }
        if (!probe.Success || probe.Info.DurationMs <= 0)
        {
            return Step(dub, DubStatus.Error) with
            {
                ErrorCode = DubbingCodes.UnprocessableAudio,
                ErrorMessage = "The input is not audio whose duration can be read: " + (probe.Detail ?? "it holds no samples."),
            };
        }
        return Step(dub, DubStatus.Preprocessed) with
        {
            InputDurationMs = probe.Info.DurationMs,
            RequiredCredits = DubbingCredits.For(probe.Info.DurationMs),
            InputFormat = ContainerName(probe.Info.Container) + "/" + probe.Info.Codec,
        };
    }

    private static string ContainerName(AudioContainer container) => container switch
    {
        AudioContainer.Raw => "raw",
        AudioContainer.Wav => "wav",
        AudioContainer.Aiff => "aiff",
        AudioContainer.Au => "au",
        AudioContainer.Flac => "flac",
        AudioContainer.Mp3 => "mp3",
        AudioContainer.Ogg => "ogg",
        AudioContainer.Mp4 => "mp4",
        AudioContainer.Matroska => "matroska",
        AudioContainer.Adts => "adts",
        AudioContainer.Amr => "amr",
        _ => "asf",
    };

    private Dub InputMissing(Dub dub) => Step(dub, DubStatus.Error) with
    {
        ErrorCode = DubbingCodes.InputMissing,
        ErrorMessage = "The dub's input file is no longer on the server.",
    };

    /// <summary>
    /// Renders the input straight into the result blob (through a pipe, so nothing is buffered whole): the blob store
    /// keeps the result only once all of it is written, so a render that fails or is interrupted leaves no result.
    /// </summary>
    private async Task<Dub> RenderAsync(Dub dub, CancellationToken ct)
    {
        await using var input = await blobs.OpenReadAsync(DubbingBlobs.Input(dub.Id), ct);
        if (input is null)
        {
            return InputMissing(dub);
        }
        var pipe = new Pipe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var render = Task.Run(() =>
        {
            try
            {
                using (var output = pipe.Writer.AsStream(leaveOpen: true))
                {
                    processor.Render(input, output, stop.Token);
                }
                pipe.Writer.Complete();
            }
            catch (Exception ex)
            {
                // The reader side fails with this too, so the half-written result is discarded.
                pipe.Writer.Complete(ex);
                throw;
            }
        }, CancellationToken.None);
        try
        {
            await using var rendered = pipe.Reader.AsStream();
            await blobs.PutAsync(DubbingBlobs.Result(dub.Id), rendered, ct);
        }
        catch
        {
            stop.Cancel();
            try
            {
                await render;
            }
            catch (DubRenderException ex)
            {
                return Step(dub, DubStatus.Error) with { ErrorCode = ex.Code, ErrorMessage = ex.Message };
            }
            catch
            {
                // What the store said is the failure to report.
            }
            throw;
        }
        await render;
        return Step(dub, DubStatus.Finalizing);
    }

    private async Task<Dub?> StoreAsync(Dub next, DubStatus expected, CancellationToken ct) =>
        await SaveAsync(next, expected, ct) is { } stored && DubLifecycle.IsWorkPending(stored.Status) ? stored : null;

    /// <summary>Stores a step (compare-and-set on <paramref name="expected"/>); the dub as stored, or null when it had moved meanwhile.</summary>
    private async Task<Dub?> SaveAsync(Dub next, DubStatus expected, CancellationToken ct)
    {
        bool stored;
        if (next.Status == DubStatus.Error && DubLifecycle.IsCharged(expected))
        {
            // A dub that fails after its credits were charged gives them back, in the same transaction.
            next = next with { ApiCreditsUsed = 0 };
            stored = await store.UpdateDubWithRefundAsync(next, expected, DubbingCredits.RefundId(next.Id), next.UpdatedAt, ct);
        }
        else
        {
            stored = await store.UpdateDubAsync(next, expected, ct);
        }
        return stored ? next : null;
    }
}
