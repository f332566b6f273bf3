using System.Text.RegularExpressions;
using Tollgate.Audio;
using Tollgate.Blobs;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Limits;

namespace Tollgate.Dubbing;

/// <summary>What a caller asks for when creating a dub (the input itself is a stream staged beforehand).</summary>
internal sealed record NewDub(string? Name, string? SourceLanguage, string? TargetLanguage, string? VoiceId);

/// <summary>What a caller asks for when creating a custom voice.</summary>
internal sealed record NewVoice(string? Name, string? Language, string? Genre, string? Style, string? Description);

/// <summary>An organization's credits in the current month.</summary>
internal readonly record struct CreditBalance(int Allowance, long Used, int Left, MonthPeriod Period);

/// <summary>A call's answer: the changed dub or voice, or why nothing changed.</summary>
internal readonly record struct DubbingResult<T>(T? Value, DubbingRefusal? Refusal) where T : class
{
    public static implicit operator DubbingResult<T>(DubbingRefusal refusal) => new(null, refusal);

    public static implicit operator DubbingResult<T>(T value) => new(value, null);
}

/// <summary>
/// What callers of the dubbing workflow ask for: creating dubs and voices and the transitions they request (preprocess,
/// generate, clone), each checked and then persisted, or refused with nothing changed. A transition that leaves work
/// for the background hands it to the job engine as a durable job right after it is stored (a job lost to a crash in
/// between is enqueued again at the next start, <see cref="DubbingJobs.EnqueuePendingAsync"/>); the work itself is
/// <see cref="DubProcessing"/>'s and <see cref="VoiceTraining"/>'s.
/// </summary>
internal sealed partial class DubbingRequests(IDubbingStore store, IBlobStore blobs, TimeProvider time, DubbingOptions options, JobQueue jobs)
{
    private const int MaxNameLength = 200;

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    private static partial Regex LanguageCode();

    private DateTimeOffset Now() => Timestamps.Now(time);

    public int MonthlyCredits => options.MonthlyCredits;

    public static bool IsLanguageCode(string? value) => value is { Length: <= 35 } && LanguageCode().IsMatch(value);

    /// <summary>The organization's credits this month; completes synchronously (and allocates nothing) when the store's answer is cached.</summary>
    public ValueTask<CreditBalance> BalanceAsync(string orgId, CancellationToken ct)
    {
        var period = MonthPeriod.Current(time);
        var used = store.CreditsUsedAsync(orgId, period, ct);
        return used.IsCompletedSuccessfully ? new ValueTask<CreditBalance>(Balance(used.Result, period)) : BalanceAfterAsync(used, period);
    }

    private async ValueTask<CreditBalance> BalanceAfterAsync(Task<long> used, MonthPeriod period) => Balance(await used, period);

    private CreditBalance Balance(long used, MonthPeriod period) =>
        new(options.MonthlyCredits, used, DubbingCredits.Left(options.MonthlyCredits, used), period);

    // ---- dubs -------------------------------------------------------------------------------------------------

    public Task<Dub?> GetDubAsync(Principal caller, string dubId, CancellationToken ct) => store.GetDubAsync(dubId, caller.UserId, ct);

    /// <summary>Checks a new dub's fields (all problems at once); null when they are fine.</summary>
    public async Task<DubbingRefusal?> ValidateAsync(Principal caller, NewDub request, CancellationToken ct)
    {
        var problems = new List<string>();
        if (request.Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength))
        {
            problems.Add($"name must be 1–{MaxNameLength} characters.");
        }
        if (!IsLanguageCode(request.TargetLanguage))
        {
            problems.Add("targetLanguage is required: a language code such as 'es' or 'pt-BR'.");
        }
        if (request.SourceLanguage is { } source && !IsLanguageCode(source))
        {
            problems.Add($"sourceLanguage '{source}' is not a language code such as 'en' or 'pt-BR'.");
        }
        if (request.VoiceId is { } voiceId && await store.GetVoiceAsync(voiceId, caller.UserId, ct) is not { Status: VoiceStatus.Ready })
        {
            problems.Add($"voiceId '{voiceId}' is neither a stock voice nor one of your ready custom voices.");
        }
        return problems.Count == 0 ? null : new DubbingRefusal(RefusalKind.Invalid, DubbingCodes.ValidationFailed, string.Join(" ", problems));
    }

    /// <summary>
    /// Creates a dub from an input staged in <paramref name="input"/> (seekable; the caller keeps and disposes it): the
    /// input must be audio whose duration can be read from its headers. It is stored as the dub's input blob before the
    /// dub itself, and removed again if the dub cannot be stored.
    /// </summary>
    public async Task<DubbingResult<Dub>> CreateDubAsync(Principal caller, NewDub request, Stream input, string? fallbackName, CancellationToken ct)
    {
        if (await ValidateAsync(caller, request, ct) is { } invalid)
        {
            return invalid;
        }
        if (CheckInput(input) is { } unreadable)
        {
            return unreadable;
        }
        var dubId = Ids.New("dub");
        var now = Now();
        var name = request.Name?.Trim() is { Length: > 0 } given ? given : Clip(fallbackName) ?? dubId;
        var dub = new Dub
        {
            Id = dubId,
            OrgId = caller.OrgId,
            UserId = caller.UserId,
            Name = name,
            SourceLanguage = request.SourceLanguage,
            TargetLanguage = request.TargetLanguage!,
            VoiceId = request.VoiceId,
            Status = DubStatus.New,
            CreatedAt = now,
            UpdatedAt = now,
        };
        input.Seek(0, SeekOrigin.Begin);
        await blobs.PutAsync(DubbingBlobs.Input(dubId), input, ct);
        try
        {
            await store.AddDubAsync(dub, ct);
        }
        catch
        {
            await blobs.DeleteAsync(DubbingBlobs.Input(dubId), CancellationToken.None);
            throw;
        }
        return dub;
    }

    /// <summary>The result of a dub that is done (the caller disposes it), or null when it is no longer kept.</summary>
    public Task<Stream?> OpenResultAsync(Dub dub, CancellationToken ct) => blobs.OpenReadAsync(DubbingBlobs.Result(dub.Id), ct);

    private static string? Clip(string? name) => string.IsNullOrWhiteSpace(name) ? null : name.Length <= MaxNameLength ? name : name[..MaxNameLength];

    /// <summary>The refusal for an input that is not readable audio (400, as DESIGN 3.1), or null.</summary>
    private static DubbingRefusal? CheckInput(Stream input)
    {
        input.Seek(0, SeekOrigin.Begin);
        var probe = AudioProbe.Probe(input);
        return probe switch
        {
            { Error: ProbeError.Empty } => new(RefusalKind.BadInput, DubbingCodes.EmptyFile, "The input file is empty."),
            { Error: ProbeError.UnsupportedFormat } => new(RefusalKind.BadInput, DubbingCodes.UnsupportedFormat,
                "The input is not an audio format this server can read (WAV, AIFF, AU, FLAC, MP3, Ogg, MP4/M4A, WebM, AAC, AMR, WMA)."),
            { Success: false } => new(RefusalKind.BadInput, DubbingCodes.UnprocessableAudio, "The input's audio headers are unreadable: " + probe.Detail),
            { Info.DurationMs: <= 0 } => new(RefusalKind.Invalid, DubbingCodes.AudioTooShort, "The input holds no audio (its duration is 0 s)."),
            _ => null,
        };
    }

    public async Task<DubbingResult<Dub>> PreprocessAsync(Principal caller, string dubId, CancellationToken ct)
    {
        if (await store.GetDubAsync(dubId, caller.UserId, ct) is not { } dub)
        {
            return NotFound("dub", dubId);
        }
        if (DubLifecycle.CanPreprocess(dub) is { } refusal)
        {
            return refusal;
        }
        var next = Step(dub, DubStatus.Preprocessing);
        if (!await store.UpdateDubAsync(next, dub.Status, ct))
        {
            return await ChangedMeanwhileAsync(caller, dub, static d => DubLifecycle.CanPreprocess(d), ct);
        }
        await DubbingJobs.EnqueueAsync(jobs, next);
        return next;
    }

    public async Task<DubbingResult<Dub>> GenerateAsync(Principal caller, string dubId, CancellationToken ct)
    {
        if (await store.GetDubAsync(dubId, caller.UserId, ct) is not { } dub)
        {
            return NotFound("dub", dubId);
        }
        var balance = await BalanceAsync(dub.OrgId, ct);
        if (DubLifecycle.CanGenerate(dub, balance.Left) is { } refusal)
        {
            return refusal;
        }
        var required = dub.RequiredCredits ?? 0;
        var next = Step(dub, DubStatus.Queued) with { ApiCreditsUsed = required };
        var charge = new CreditEntry(DubbingCredits.ChargeId(dub.Id), dub.OrgId, dub.Id, required, balance.Period, next.UpdatedAt);
        var outcome = await store.ChargeAsync(next, dub.Status, charge, options.MonthlyCredits, ct);
        switch (outcome.Status)
        {
            case ChargeStatus.Charged:
                await DubbingJobs.EnqueueAsync(jobs, next);
                return next;
            case ChargeStatus.InsufficientCredits:
                return DubLifecycle.InsufficientCredits(dub, outcome.CreditsLeft);
            default:
                return await ChangedMeanwhileAsync(caller, dub, d => DubLifecycle.CanGenerate(d, outcome.CreditsLeft), ct);
        }
    }

    /// <summary>The refusal for a call that lost a race: judged on the dub as it is now.</summary>
    private async Task<DubbingRefusal> ChangedMeanwhileAsync(Principal caller, Dub seen, Func<Dub, DubbingRefusal?> judge, CancellationToken ct) =>
        await store.GetDubAsync(seen.Id, caller.UserId, ct) is { } now && judge(now) is { } refusal
            ? refusal
            : new DubbingRefusal(RefusalKind.Conflict, DubbingCodes.InvalidState, $"Dub {seen.Id} changed meanwhile; fetch it and try again.");

    private Dub Step(Dub dub, DubStatus to) => DubLifecycle.Step(dub, to, Now());

    private static DubbingRefusal NotFound(string what, string id) => new(RefusalKind.NotFound, DubbingCodes.NotFound, $"No {what} '{id}'.");

    // ---- voices -----------------------------------------------------------------------------------------------

    public async Task<DubbingResult<Voice>> CreateVoiceAsync(Principal caller, NewVoice request, CancellationToken ct)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxNameLength)
        {
            problems.Add($"name is required (1–{MaxNameLength} characters).");
        }
        if (!IsLanguageCode(request.Language))
        {
            problems.Add("language is required: a language code such as 'en' or 'pt-BR'.");
        }
        foreach (var (field, value) in new[] { ("genre", request.Genre), ("style", request.Style) })
        {
            if (value is { } text && (string.IsNullOrWhiteSpace(text) || text.Length > 50))
            {
                problems.Add($"{field} must be 1–50 characters.");
            }
        }
        if (request.Description is { Length: > 1000 })
        {
            problems.Add("description must be at most 1000 characters.");
        }
        if (problems.Count > 0)
        {
            return new DubbingRefusal(RefusalKind.Invalid, DubbingCodes.ValidationFailed, string.Join(" ", problems));
        }
        var voice = new Voice
        {
            Id = Ids.New("voice"),
            OrgId = caller.OrgId,
            OwnerUserId = caller.UserId,
            Name = request.Name!.Trim(),
            Language = request.Language!,
            Genre = request.Genre?.Trim().ToLowerInvariant(),
            Style = request.Style?.Trim().ToLowerInvariant(),
            Description = request.Description,
            Status = VoiceStatus.New,
            CreatedAt = Now(),
        };
        await store.AddVoiceAsync(voice, ct);
        return voice;
    }

    /// <summary>One of the caller's own custom voices (stock voices are listed by <c>GET /v1/voices</c>, not here).</summary>
    public async Task<Voice?> GetOwnVoiceAsync(Principal caller, string voiceId, CancellationToken ct) =>
        await store.GetVoiceAsync(voiceId, caller.UserId, ct) is { IsStock: false } voice ? voice : null;

    /// <summary>Checks a clone request before its sample is read: the voice must be the caller's and trainable.</summary>
    public async Task<DubbingResult<Voice>> CheckCloneAsync(Principal caller, string voiceId, CancellationToken ct)
    {
        if (await GetOwnVoiceAsync(caller, voiceId, ct) is not { } voice)
        {
            return NotFound("voice", voiceId);
        }
        return DubLifecycle.CanClone(voice) is { } refusal ? refusal : voice;
    }

    /// <summary>Starts training a voice from a sample staged in <paramref name="sample"/> (seekable; the caller keeps and disposes it).</summary>
    public async Task<DubbingResult<Voice>> CloneAsync(Principal caller, string voiceId, Stream sample, CancellationToken ct)
    {
        var checkedVoice = await CheckCloneAsync(caller, voiceId, ct);
        if (checkedVoice.Value is not { } voice)
        {
            return checkedVoice;
        }
        if (CheckInput(sample) is { } unreadable)
        {
            return unreadable;
        }
        var sampleFile = Ids.New(voiceId) + ".sample";
        sample.Seek(0, SeekOrigin.Begin);
        await blobs.PutAsync(DubbingBlobs.Sample(sampleFile), sample, ct);
        var next = voice with { Status = VoiceStatus.Training, SampleFile = sampleFile, ErrorCode = null, ErrorMessage = null };
        if (!await store.UpdateVoiceAsync(next, voice.Status, ct))
        {
            await blobs.DeleteAsync(DubbingBlobs.Sample(sampleFile), CancellationToken.None);
            return new DubbingRefusal(RefusalKind.Conflict, DubbingCodes.InvalidState, $"Voice {voice.Id} changed meanwhile; fetch it and try again.");
        }
        if (voice.SampleFile is { } previous)
        {
            await blobs.DeleteAsync(DubbingBlobs.Sample(previous), CancellationToken.None);
        }
        await DubbingJobs.EnqueueAsync(jobs, next);
        return next;
    }
}
