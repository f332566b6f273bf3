using Tollgate.Jobs;

namespace Tollgate.Dubbing;

/// <summary>
/// The jobs of the dubbing workflow: one <c>dub</c> job per preprocess and one per generate (its subject the dub id),
/// one <c>voice</c> job per clone (its subject the voice id). Their ids follow from what they do, so enqueuing the
/// same work twice — a retried call, the start-up sweep — stores it once.
/// </summary>
internal static class DubbingJobs
{
    public const string DubKind = "dub";
    public const string VoiceKind = "voice";

    /// <summary>The job that moves on a dub in <paramref name="dub"/>'s status: its preprocess job, or once generated its generate job.</summary>
    public static string JobId(Dub dub) => dub.Id + (dub.Status is DubStatus.New or DubStatus.Preprocessing or DubStatus.Preprocessed ? ":preprocess" : ":generate");

    /// <summary>The job that trains a voice on the sample it has now (a voice cloned again after an error gets a new one).</summary>
    public static string JobId(Voice voice) => voice.Id + ":train:" + voice.SampleFile;

    /// <summary>Hands a dub's pending work to the engine. Not cancellable: the dub's new status is already stored.</summary>
    public static Task<bool> EnqueueAsync(JobQueue jobs, Dub dub) => jobs.EnqueueAsync(JobId(dub), DubKind, dub.Id, CancellationToken.None);

    public static Task<bool> EnqueueAsync(JobQueue jobs, Voice voice) => jobs.EnqueueAsync(JobId(voice), VoiceKind, voice.Id, CancellationToken.None);

    /// <summary>
    /// Enqueues (idempotently) the job of every dub and voice that has background work pending: those a crash caught
    /// between storing a transition and enqueuing its job, and those of a database written before dubbing ran on jobs.
    /// Returns how many dubs and voices have work pending.
    /// </summary>
    public static async Task<(int Dubs, int Voices)> EnqueuePendingAsync(IDubbingStore store, JobQueue jobs, CancellationToken ct)
    {
        var dubs = await store.PendingDubsAsync(ct);
        foreach (var dub in dubs)
        {
            await jobs.EnqueueAsync(JobId(dub), DubKind, dub.Id, ct);
        }
        var voices = await store.PendingVoicesAsync(ct);
        foreach (var voice in voices)
        {
            await jobs.EnqueueAsync(JobId(voice), VoiceKind, voice.Id, ct);
        }
        return (dubs.Count, voices.Count);
    }
}
