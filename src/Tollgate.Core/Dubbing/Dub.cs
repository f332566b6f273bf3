namespace Tollgate.Dubbing;

/// <summary>Where a dub is in its life: new → preprocessing → preprocessed → queued → starting → processing → finalizing → done, or error.</summary>
public enum DubStatus
{
    New,
    Preprocessing,
    Preprocessed,
    Queued,
    Starting,
    Processing,
    Finalizing,
    Done,
    Error,
}

/// <summary>
/// A dubbing job of one user (dubs are per user: another user of the same organization does not see it). Its input
/// and result are blobs named after its id (<see cref="DubbingBlobs"/>); everything else is here.
/// </summary>
public sealed record Dub
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public required string UserId { get; init; }
    public required string Name { get; init; }
    public string? SourceLanguage { get; init; }
    public required string TargetLanguage { get; init; }
    public string? VoiceId { get; init; }
    public DubStatus Status { get; init; }

    /// <summary>Measured by preprocessing, from the input's own bytes.</summary>
    public long? InputDurationMs { get; init; }

    /// <summary>What generating costs (<see cref="DubbingCredits.For"/>), known once preprocessed.</summary>
    public int? RequiredCredits { get; init; }

    /// <summary>Credits this dub has spent: its charge at generate, back to 0 when a failure refunds it.</summary>
    public int ApiCreditsUsed { get; init; }

    /// <summary>Container/codec the probe recognised, e.g. <c>wav/pcm_s16le</c>.</summary>
    public string? InputFormat { get; init; }

    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A voice's training state: custom voices go new → training → ready (or error, after which they may be trained again).</summary>
public enum VoiceStatus
{
    New,
    Training,
    Ready,
    Error,
}

/// <summary>A voice: one of the stock catalogue (no owner), or a user's own custom voice trained from a sample.</summary>
public sealed record Voice
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Language { get; init; }
    public string? Genre { get; init; }
    public string? Style { get; init; }
    public string? Description { get; init; }

    /// <summary>The user who owns a custom voice; null for stock voices.</summary>
    public string? OwnerUserId { get; init; }
    public string? OrgId { get; init; }
    public VoiceStatus Status { get; init; } = VoiceStatus.Ready;

    /// <summary>The sample's file name in the dubbing folder, set when training starts.</summary>
    public string? SampleFile { get; init; }
    public long? SampleDurationMs { get; init; }

    /// <summary>What training measured on an uncompressed sample: its RMS loudness in dBFS.</summary>
    public double? SampleLoudnessDb { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public bool IsStock => OwnerUserId is null;
}
