using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Tollgate.Audio;
using Tollgate.Identity;
using Tollgate.Limits;

namespace Tollgate.Dubbing;

/// <summary>What a caller asks for when creating a dub (the input itself is a file staged beforehand).</summary>
internal sealed record NewDub(string? Name, string? SourceLanguage, string? TargetLanguage, string? VoiceId);

/// <summary>What a caller asks for when creating a custom voice.</summary>
internal sealed record NewVoice(string? Name, string? Language, string? Genre, string? Style, string? Description);

/// <summary>An organization's credits in the current month.</summary>
internal sealed record CreditBalance(int Allowance, long Used, int Left, MonthPeriod Period);

/// <summary>A call's answer: the changed dub or voice, or why nothing changed.</summary>
internal readonly record struct DubbingResult<T>(T? Value, DubbingRefusal? Refusal) where T : class
{
    public static implicit operator DubbingResult<T>(DubbingRefusal refusal) => new(null, refusal);

    public static implicit operator DubbingResult<T>(T value) => new(value, null);
}

/// <summary>
/// The dubbing workflow. Callers create dubs and voices and ask for transitions, which are checked and then persisted,
/// or refused with nothing changed. Workers move dubs and voices on one durable step at a time (<see cref="AdvanceAsync"/>,
/// <see cref="TrainAsync"/>); every step can run again after a crash with the same outcome, so a restart resumes
/// whatever it finds mid-way.
/// </summary>
internal sealed partial class DubbingService(IDubbingStore store, DubbingFiles files, TimeProvider time, DubbingOptions options, IDubProcessingGate gate, IDubProcessor processor)
{
    private const int MaxNameLength = 200;
    private const long MinSampleMs = 1000;

    private readonly Lock _wakeLock = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    private static partial Regex LanguageCode();

    public DubbingFiles Files => files;

    /// <summary>The time, to the millisecond the store keeps, so an answer shows the same time as a later read.</summary>
    private DateTimeOffset Now()
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    public int MonthlyCredits => options.MonthlyCredits;

    /// <summary>Completes when there may be new work for the workers (a preprocess, a generate, a clone).</summary>
    public Task WorkSignal
    {
        get
        {
            lock (_wakeLock)
            {
                return _wake.Task;
            }
        }
    }

    private void Wake()
    {
        TaskCompletionSource previous;
        lock (_wakeLock)
        {
            previous = _wake;
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }

    /// <summary>A new id: <paramref name="prefix"/>, an underscore and 80 random bits in hex.</summary>
    public static string NewId(string prefix)
    {
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        return prefix + "_" + Convert.ToHexStringLower(random);
    }

    public static bool IsLanguageCode(string? value) => value is { Length: <= 35 } && LanguageCode().IsMatch(value);

    public async Task<CreditBalance> BalanceAsync(string orgId, CancellationToken ct)
    {
        var period = MonthPeriod.Current(time);
        var used = await store.CreditsUsedAsync(orgId, period, ct);
        return new CreditBalance(options.MonthlyCredits, used, DubbingCredits.Left(options.MonthlyCredits, used), period);
    }

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
    /// Creates a dub from an input already staged at <paramref name="stagedInput"/> (moved into place, or deleted when
    /// the dub is refused): the input must be audio whose duration can be read from its headers.
    /// </summary>
    public async Task<DubbingResult<Dub>> CreateDubAsync(Principal caller, NewDub request, string stagedInput, string? fallbackName, CancellationToken ct)
    {
        var moved = false;
        var dubId = NewId("dub");
        try
        {
            if (await ValidateAsync(caller, request, ct) is { } invalid)
            {
                return invalid;
            }
            if (CheckInput(stagedInput) is { } unreadable)
            {
                return unreadable;
            }
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
            files.EnsureExists();
            File.Move(stagedInput, files.Input(dubId), overwrite: true);
            moved = true;
            await store.AddDubAsync(dub, ct);
            return dub;
        }
        catch when (moved)
        {
            File.Delete(files.Input(dubId));
            throw;
        }
        finally
        {
            if (!moved)
            {
                File.Delete(stagedInput);
            }
        }
    }

    private static string? Clip(string? name) => string.IsNullOrWhiteSpace(name) ? null : name.Length <= MaxNameLength ? name : name[..MaxNameLength];

    /// <summary>The refusal for an input that is not readable audio (400, as DESIGN 3.1), or null.</summary>
    private static DubbingRefusal? CheckInput(string path)
    {
        ProbeResult probe;
        using (var input = File.OpenRead(path))
        {
            probe = AudioProbe.Probe(input);
        }
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
        Wake();
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
                Wake();
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

    private Dub Step(Dub dub, DubStatus to)
    {
        if (!DubLifecycle.IsAllowed(dub.Status, to))
        {
            throw new InvalidOperationException($"A dub cannot go from {DubLifecycle.Wire(dub.Status)} to {DubLifecycle.Wire(to)}.");
        }
        return dub with { Status = to, UpdatedAt = Now() };
    }

    private static DubbingRefusal NotFound(string what, string id) => new(RefusalKind.NotFound, DubbingCodes.NotFound, $"No {what} '{id}'.");

    /// <summary>
    /// Moves one dub on by one durable step; returns the dub as stored afterwards, or null when it needs nothing more
    /// (or someone else moved it). Each step is idempotent: after a crash it is simply taken again.
    /// </summary>
    public async Task<Dub?> AdvanceAsync(Dub dub, CancellationToken ct)
    {
        switch (dub.Status)
        {
            case DubStatus.Preprocessing:
                return await StoreAsync(Preprocessed(dub), dub.Status, ct);
            case DubStatus.Queued:
                return await StoreAsync(File.Exists(files.Input(dub.Id)) ? Step(dub, DubStatus.Starting) : InputMissing(dub), dub.Status, ct);
            case DubStatus.Starting:
                return await StoreAsync(Step(dub, DubStatus.Processing), dub.Status, ct);
            case DubStatus.Processing:
                await gate.WaitAsync(dub, ct);
                return await StoreAsync(await RenderAsync(dub, ct), dub.Status, ct);
            case DubStatus.Finalizing:
                var partial = files.PartialResult(dub.Id);
                if (File.Exists(partial))
                {
                    File.Move(partial, files.Result(dub.Id), overwrite: true);
                }
                // A result lost before it was kept (the folder was cleaned, say) is rendered again.
                return await StoreAsync(Step(dub, File.Exists(files.Result(dub.Id)) ? DubStatus.Done : DubStatus.Processing), dub.Status, ct);
            default:
                return null;
        }
    }

    private Dub Preprocessed(Dub dub)
    {
        if (!File.Exists(files.Input(dub.Id)))
        {
            return InputMissing(dub);
        }
        ProbeResult probe;
        using (var input = File.OpenRead(files.Input(dub.Id)))
        {
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

    private async Task<Dub> RenderAsync(Dub dub, CancellationToken ct)
    {
        var partial = files.PartialResult(dub.Id);
        try
        {
            await Task.Run(() =>
            {
                using var input = File.OpenRead(files.Input(dub.Id));
                using var output = File.Create(partial);
                processor.Render(input, output, ct);
                output.Flush(flushToDisk: true);
            }, ct);
            return Step(dub, DubStatus.Finalizing);
        }
        catch (DubRenderException ex)
        {
            File.Delete(partial);
            return Step(dub, DubStatus.Error) with { ErrorCode = ex.Code, ErrorMessage = ex.Message };
        }
        catch (FileNotFoundException)
        {
            File.Delete(partial);
            return InputMissing(dub);
        }
    }

    private async Task<Dub?> StoreAsync(Dub next, DubStatus expected, CancellationToken ct)
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
        return stored && DubLifecycle.IsWorkPending(next.Status) ? next : null;
    }

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
            Id = NewId("voice"),
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

    /// <summary>Starts training a voice from a sample staged at <paramref name="stagedSample"/> (moved into place, or deleted when refused).</summary>
    public async Task<DubbingResult<Voice>> CloneAsync(Principal caller, string voiceId, string stagedSample, CancellationToken ct)
    {
        var sampleFile = NewId(voiceId) + ".sample";
        var kept = false;
        try
        {
            var checkedVoice = await CheckCloneAsync(caller, voiceId, ct);
            if (checkedVoice.Value is not { } voice)
            {
                return checkedVoice;
            }
            if (CheckInput(stagedSample) is { } unreadable)
            {
                return unreadable;
            }
            files.EnsureExists();
            File.Move(stagedSample, files.Sample(sampleFile));
            kept = true;
            var next = voice with { Status = VoiceStatus.Training, SampleFile = sampleFile, ErrorCode = null, ErrorMessage = null };
            if (!await store.UpdateVoiceAsync(next, voice.Status, ct))
            {
                File.Delete(files.Sample(sampleFile));
                return new DubbingRefusal(RefusalKind.Conflict, DubbingCodes.InvalidState, $"Voice {voice.Id} changed meanwhile; fetch it and try again.");
            }
            if (voice.SampleFile is { } previous)
            {
                File.Delete(files.Sample(previous));
            }
            Wake();
            return next;
        }
        finally
        {
            if (!kept)
            {
                File.Delete(stagedSample);
            }
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
        var next = await Task.Run(() => Measure(voice, ct), ct);
        await store.UpdateVoiceAsync(next, VoiceStatus.Training, ct);
    }

    private Voice Measure(Voice voice, CancellationToken ct)
    {
        var path = voice.SampleFile is { } name ? files.Sample(name) : null;
        if (path is null || !File.Exists(path))
        {
            return voice with { Status = VoiceStatus.Error, ErrorCode = DubbingCodes.InputMissing, ErrorMessage = "The voice's sample is no longer on the server." };
        }
        using var sample = File.OpenRead(path);
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
