namespace Tollgate.Dubbing;

/// <summary>Why a dubbing call was refused; the server maps it to an HTTP status (404, 409, 402, 422).</summary>
internal enum RefusalKind
{
    NotFound,
    Conflict,
    InsufficientCredits,
    /// <summary>A field is missing or invalid (422).</summary>
    Invalid,
    /// <summary>The input file is empty or not readable audio (400).</summary>
    BadInput,
}

/// <summary>A refused dubbing call: the kind, a machine code and a sentence for people. Nothing was changed.</summary>
internal sealed record DubbingRefusal(RefusalKind Kind, string Code, string Detail);

/// <summary>The machine codes of dubbing refusals and of a dub's or voice's <c>errorCode</c>.</summary>
internal static class DubbingCodes
{
    public const string NotFound = "not_found";
    public const string AlreadyPreprocessed = "already_preprocessed";
    public const string NotPreprocessed = "not_preprocessed";
    public const string AlreadyGenerated = "already_generated";
    public const string InvalidState = "invalid_state";
    public const string NotReady = "not_ready";
    public const string InsufficientCredits = "insufficient_credits";
    public const string ValidationFailed = "validation_failed";
    public const string EmptyFile = "empty_file";
    public const string UnsupportedFormat = "unsupported_format";
    public const string AudioTooShort = "audio_too_short";

    // errorCode of a dub or voice that failed in the background.
    public const string UnprocessableAudio = "unprocessable_audio";
    public const string UnsupportedInput = "unsupported_input";
    public const string InputMissing = "input_missing";
    public const string InputTooLong = "input_too_long";
    public const string SampleTooShort = "sample_too_short";

    /// <summary>The background work kept failing until its attempts ran out (the job engine gave up on it).</summary>
    public const string ProcessingFailed = "processing_failed";
}

/// <summary>
/// The dub state machine. Callers ask for two transitions (preprocess, generate), checked here before anything is
/// written; workers take every other step. Done and error are final.
/// <code>
/// new ─preprocess→ preprocessing ─worker→ preprocessed ─generate→ queued → starting → processing → finalizing → done
///                        └──────────→ error ←──────────────────────────┴──────────┴────────────┴──────────┘
/// </code>
/// </summary>
internal static class DubLifecycle
{
    /// <summary>Whether a dub may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool IsAllowed(DubStatus from, DubStatus to) => (from, to) switch
    {
        (DubStatus.New, DubStatus.Preprocessing) => true,
        (DubStatus.Preprocessing, DubStatus.Preprocessed or DubStatus.Error) => true,
        (DubStatus.Preprocessed, DubStatus.Queued) => true,
        (DubStatus.Queued, DubStatus.Starting or DubStatus.Error) => true,
        (DubStatus.Starting, DubStatus.Processing or DubStatus.Error) => true,
        (DubStatus.Processing, DubStatus.Finalizing or DubStatus.Error) => true,
        // A result lost between rendering and keeping it is rendered again.
        (DubStatus.Finalizing, DubStatus.Done or DubStatus.Processing or DubStatus.Error) => true,
        _ => false,
    };

    /// <summary>The dub moved to <paramref name="to"/> at <paramref name="at"/>; throws when the lifecycle does not allow that step.</summary>
    public static Dub Step(Dub dub, DubStatus to, DateTimeOffset at)
    {
        if (!IsAllowed(dub.Status, to))
        {
            throw new InvalidOperationException($"A dub cannot go from {Wire(dub.Status)} to {Wire(to)}.");
        }
        return dub with { Status = to, UpdatedAt = at };
    }

    /// <summary>Statuses a worker moves on by itself; a restart resumes every dub found in one of them.</summary>
    public static bool IsWorkPending(DubStatus status) =>
        status is DubStatus.Preprocessing or DubStatus.Queued or DubStatus.Starting or DubStatus.Processing or DubStatus.Finalizing;

    public static bool IsFinal(DubStatus status) => status is DubStatus.Done or DubStatus.Error;

    /// <summary>Whether generation has been accepted (and its credits charged) for a dub in this status.</summary>
    public static bool IsCharged(DubStatus status) =>
        status is DubStatus.Queued or DubStatus.Starting or DubStatus.Processing or DubStatus.Finalizing or DubStatus.Done;

    public static DubbingRefusal? CanPreprocess(Dub dub) => dub.Status switch
    {
        DubStatus.New => null,
        DubStatus.Preprocessing or DubStatus.Preprocessed => new(RefusalKind.Conflict, DubbingCodes.AlreadyPreprocessed,
            $"Dub {dub.Id} is already {Wire(dub.Status)}; preprocess runs once."),
        _ => new(RefusalKind.Conflict, DubbingCodes.InvalidState,
            $"Dub {dub.Id} is {Wire(dub.Status)}: only a new dub can be preprocessed."),
    };

    public static DubbingRefusal? CanGenerate(Dub dub, int creditsLeft) => dub.Status switch
    {
        DubStatus.New or DubStatus.Preprocessing => new(RefusalKind.Conflict, DubbingCodes.NotPreprocessed,
            $"Dub {dub.Id} is {Wire(dub.Status)}: call POST /v1/me/dubs/{dub.Id}/preprocess and wait for 'preprocessed' before generating."),
        DubStatus.Preprocessed when !DubbingCredits.CanAfford(dub.RequiredCredits ?? 0, creditsLeft) => InsufficientCredits(dub, creditsLeft),
        DubStatus.Preprocessed => null,
        DubStatus.Error => new(RefusalKind.Conflict, DubbingCodes.InvalidState,
            $"Dub {dub.Id} failed ({dub.ErrorCode}); create a new dub."),
        _ => new(RefusalKind.Conflict, DubbingCodes.AlreadyGenerated, $"Dub {dub.Id} is {Wire(dub.Status)}; generate runs once."),
    };

    public static DubbingRefusal InsufficientCredits(Dub dub, int creditsLeft) => new(RefusalKind.InsufficientCredits, DubbingCodes.InsufficientCredits,
        $"Generating dub {dub.Id} needs {dub.RequiredCredits} credits; {creditsLeft} are left this month.");

    public static DubbingRefusal? CanClone(Voice voice) => voice.Status switch
    {
        VoiceStatus.New or VoiceStatus.Error => null,
        _ => new(RefusalKind.Conflict, DubbingCodes.InvalidState,
            $"Voice {voice.Id} is {Wire(voice.Status)}; a voice is trained once (again only after an error)."),
    };

    /// <summary>The wire name of a status (lower case, as in the API).</summary>
    public static string Wire(DubStatus status) => status switch
    {
        DubStatus.New => "new",
        DubStatus.Preprocessing => "preprocessing",
        DubStatus.Preprocessed => "preprocessed",
        DubStatus.Queued => "queued",
        DubStatus.Starting => "starting",
        DubStatus.Processing => "processing",
        DubStatus.Finalizing => "finalizing",
        DubStatus.Done => "done",
        _ => "error",
    };

    public static string Wire(VoiceStatus status) => status switch
    {
        VoiceStatus.New => "new",
        VoiceStatus.Training => "training",
        VoiceStatus.Ready => "ready",
        _ => "error",
    };

    public static DubStatus ParseDubStatus(string wire) => wire switch
    {
        "new" => DubStatus.New,
        "preprocessing" => DubStatus.Preprocessing,
        "preprocessed" => DubStatus.Preprocessed,
        "queued" => DubStatus.Queued,
        "starting" => DubStatus.Starting,
        "processing" => DubStatus.Processing,
        "finalizing" => DubStatus.Finalizing,
        "done" => DubStatus.Done,
        "error" => DubStatus.Error,
        _ => throw new FormatException($"'{wire}' is not a dub status."),
    };

    public static VoiceStatus ParseVoiceStatus(string wire) => wire switch
    {
        "new" => VoiceStatus.New,
        "training" => VoiceStatus.Training,
        "ready" => VoiceStatus.Ready,
        "error" => VoiceStatus.Error,
        _ => throw new FormatException($"'{wire}' is not a voice status."),
    };
}
