using Tollgate.Audio;
using Tollgate.Blobs;
using Tollgate.Jobs;

namespace Tollgate.Dubbing;

/// <summary>
/// Custom voice training, run as <c>voice</c> jobs: measures the sample a clone left and makes the voice ready or
/// fails it with an errorCode. Training is one stored step, so a job cut short is simply run again.
/// </summary>
internal sealed class VoiceTraining(IDubbingStore store, IBlobStore blobs, IDubProcessor processor) : IJobHandler
{
    private const long MinSampleMs = 1000;

    public string Kind => DubbingJobs.VoiceKind;

    /// <summary>Trains the job's voice if it is still training; a voice that moved on needs nothing.</summary>
    public async Task<JobOutcome> RunAsync(Job job, CancellationToken ct)
    {
        if (await store.GetVoiceAsync(job.Subject, ct) is { } voice)
        {
            await TrainAsync(voice, ct);
        }
        return JobOutcome.Done;
    }

    /// <summary>A voice whose training keeps failing ends in error (and may be cloned again) rather than training for ever.</summary>
    public async Task FailedAsync(Job job, string reason, CancellationToken ct)
    {
        if (await store.GetVoiceAsync(job.Subject, ct) is { Status: VoiceStatus.Training } voice)
        {
            await store.UpdateVoiceAsync(voice with
            {
                Status = VoiceStatus.Error,
                ErrorCode = DubbingCodes.ProcessingFailed,
                ErrorMessage = "Training this voice failed repeatedly; clone it again.",
            }, VoiceStatus.Training, ct);
        }
    }

    /// <summary>
    /// Trains a voice: the reference has no voice model to fit, so training measures the sample (its duration, and
    /// for uncompressed samples its RMS loudness) and makes the voice ready — or fails it with an errorCode.
    /// </summary>
    public async Task TrainAsync(Voice voice, CancellationToken ct)
    {
        if (voice.Status != VoiceStatus.Training)
        {
            return;
        }
        var next = await MeasureAsync(voice, ct);
        await store.UpdateVoiceAsync(next, VoiceStatus.Training, ct);
    }

    private async Task<Voice> MeasureAsync(Voice voice, CancellationToken ct)
    {
        await using var sample = voice.SampleFile is { } name ? await blobs.OpenReadAsync(DubbingBlobs.Sample(name), ct) : null;
        if (sample is null)
        {
            return voice with { Status = VoiceStatus.Error, ErrorCode = DubbingCodes.InputMissing, ErrorMessage = "The voice's sample is no longer on the server." };
        }
        return await Task.Run(() => Measure(voice, sample, ct), ct);
    }

    private Voice Measure(Voice voice, Stream sample, CancellationToken ct)
    {
        var probe = AudioProbe.Probe(sample);
        if (!probe.Success)
        {
            return voice with { Status = VoiceStatus.Error, ErrorCode = DubbingCodes.UnprocessableAudio, ErrorMessage = "The sample is not readable audio: " + probe.Detail };
        }
        if (probe.Info.DurationMs < MinSampleMs)
        {
            return voice with { Status = VoiceStatus.Error, ErrorCode = DubbingCodes.SampleTooShort, ErrorMessage = $"A voice sample must be at least {MinSampleMs / 1000} s long." };
        }
        var loudness = processor.MeasureLoudness(sample, ct);
        return voice with { Status = VoiceStatus.Ready, SampleDurationMs = probe.Info.DurationMs, SampleLoudnessDb = loudness };
    }
}
