using System.Text.Json.Serialization;

namespace Tollgate.Client.Dubbing;

/// <summary>
/// The caller's account (<c>GET /v1/me</c>): who is calling, the organization's credits this month and the key's models
/// with their limits.
/// </summary>
/// <param name="UserId">The user the key belongs to.</param>
/// <param name="UserName">The user's name.</param>
/// <param name="OrganizationId">The organization.</param>
/// <param name="OrganizationName">The organization's name.</param>
/// <param name="KeyId">The key's id (never the secret).</param>
/// <param name="MonthlyCredits">The organization's credits per month.</param>
/// <param name="ApiCreditsUsed">Credits used this month.</param>
/// <param name="ApiCreditsLeft">Credits left this month.</param>
/// <param name="CreditsPeriod">The month, <c>YYYY-MM</c>.</param>
/// <param name="CreditsResetAt">When the credits reset (UTC).</param>
/// <param name="Models">The calling key's models and their limits; null from a server that does not say (Tollgate before this field).</param>
public sealed record DubbingAccount(
    string UserId, string? UserName, string OrganizationId, string? OrganizationName, string KeyId,
    int MonthlyCredits, long ApiCreditsUsed, int ApiCreditsLeft, string CreditsPeriod, DateTimeOffset CreditsResetAt,
    IReadOnlyDictionary<string, KeyModelLimits>? Models = null);

/// <summary>One model a key may call, as <c>GET /v1/me</c> lists it.</summary>
/// <param name="Concurrency">How many requests of the model the organization may have in flight at once.</param>
/// <param name="MonthlyAudioHours">The monthly audio hours the key allows for the model.</param>
public sealed record KeyModelLimits(int Concurrency, double MonthlyAudioHours);

/// <summary>A voice: of the library (<see cref="Category"/> <c>stock</c>) or one of the caller's own (<c>custom</c>).</summary>
/// <param name="VoiceId">Its id, to pass as a dub's <c>voiceId</c>.</param>
/// <param name="Name">Its name.</param>
/// <param name="Language">Its language (ISO 639-1).</param>
/// <param name="Genre">Its genre, if any.</param>
/// <param name="Style">Its style, if any.</param>
/// <param name="Description">Its description, if any.</param>
/// <param name="Category"><c>stock</c> or <c>custom</c>.</param>
/// <param name="Status"><c>new</c>, <c>training</c>, <c>ready</c> or <c>error</c>.</param>
/// <param name="SampleDuration">A custom voice's sample, in seconds, once measured.</param>
/// <param name="SampleLoudnessDb">The sample's loudness, once measured.</param>
/// <param name="ErrorCode">Why training failed, or null.</param>
/// <param name="ErrorMessage">The explanation, or null.</param>
/// <param name="CreatedAt">When a custom voice was created; null for stock voices.</param>
public sealed record DubbingVoice(
    string VoiceId, string Name, string Language, string? Genre, string? Style, string? Description, string Category, string Status,
    double? SampleDuration, double? SampleLoudnessDb, string? ErrorCode, string? ErrorMessage, DateTimeOffset? CreatedAt)
{
    /// <summary>Whether training has finished (<c>ready</c> or <c>error</c>).</summary>
    public bool IsFinal => Status is "ready" or "error";
}

/// <summary>One page of <c>GET /v1/voices</c>.</summary>
/// <param name="Voices">The voices of this page.</param>
/// <param name="NextCursor">Pass it for the next page; null on the last.</param>
/// <param name="HasMore">Whether there is a next page.</param>
public sealed record DubbingVoicePage(IReadOnlyList<DubbingVoice> Voices, string? NextCursor, bool HasMore);

/// <summary>Filters of <c>GET /v1/voices</c>; every one optional.</summary>
public sealed record DubbingVoiceQuery
{
    /// <summary>Text to find in a voice's name or description; default none.</summary>
    public string? Search { get; init; }

    /// <summary>Genres, any of which matches; default any.</summary>
    public IReadOnlyList<string>? Genres { get; init; }

    /// <summary>Languages (ISO 639-1), any of which matches; default any.</summary>
    public IReadOnlyList<string>? Languages { get; init; }

    /// <summary>Styles, any of which matches; default any.</summary>
    public IReadOnlyList<string>? Styles { get; init; }

    /// <summary>Voices per page, 1 to 100; default the server's (20).</summary>
    public int? Limit { get; init; }
}

/// <summary>A new custom voice (<c>POST /v1/me/voices</c>); train it with a sample afterwards.</summary>
/// <param name="Name">Its name (required).</param>
/// <param name="Language">Its language, ISO 639-1 (required).</param>
/// <param name="Genre">Optional genre.</param>
/// <param name="Style">Optional style.</param>
/// <param name="Description">Optional description.</param>
public sealed record NewDubbingVoice(string Name, string Language, string? Genre = null, string? Style = null, string? Description = null);

/// <summary>What a new dub is (<c>POST /v1/me/dubs</c>).</summary>
/// <param name="TargetLanguage">The language to dub into, ISO 639-1 (required), e.g. <c>es</c>.</param>
/// <param name="SourceLanguage">The input's language; default null (detected).</param>
/// <param name="VoiceId">A voice to speak with; default null (the server's choice).</param>
/// <param name="Name">A name for the dub; default null (the file's name).</param>
public sealed record NewDub(string TargetLanguage, string? SourceLanguage = null, string? VoiceId = null, string? Name = null);

/// <summary>A dub through its lifecycle: <c>new</c> → <c>preprocessing</c> → <c>preprocessed</c> → <c>queued</c> → <c>starting</c> → <c>processing</c> → <c>finalizing</c> → <c>done</c>, or <c>error</c>.</summary>
/// <param name="DubId">Its id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Status">Where it is in its lifecycle.</param>
/// <param name="SourceLanguage">The input's language, if given.</param>
/// <param name="TargetLanguage">The language dubbed into.</param>
/// <param name="VoiceId">The voice, if given.</param>
/// <param name="InputDuration">The input's duration in seconds, once preprocessed.</param>
/// <param name="InputFormat">The input's format, once preprocessed.</param>
/// <param name="RequiredCredits">What generating costs, once preprocessed.</param>
/// <param name="ApiCreditsUsed">What this dub has spent.</param>
/// <param name="ApiCreditsLeft">What the organization has left this month.</param>
/// <param name="DubUrl">Where the result is downloaded, once done.</param>
/// <param name="ErrorCode">Why it failed, or null.</param>
/// <param name="ErrorMessage">The explanation, or null.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record Dub(
    string DubId, string Name, string Status, string? SourceLanguage, string TargetLanguage, string? VoiceId, double? InputDuration,
    string? InputFormat, int? RequiredCredits, int ApiCreditsUsed, int ApiCreditsLeft, string? DubUrl, string? ErrorCode, string? ErrorMessage,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A dub ended in <c>error</c> (its credits refunded by the server).</summary>
public sealed class TollgateDubFailedException : Exception
{
    /// <summary>Creates the exception for a failed dub.</summary>
    /// <param name="dub">The dub as last read.</param>
    public TollgateDubFailedException(Dub dub)
        : base($"Dub {dub?.DubId} failed: {dub?.ErrorMessage ?? "no reason given"}{(dub?.ErrorCode is { } code ? $" ({code})" : "")}.")
    {
        Dub = dub ?? throw new ArgumentNullException(nameof(dub));
    }

    /// <summary>The dub as last read (its <see cref="Dub.ErrorCode"/> and <see cref="Dub.ErrorMessage"/> say why).</summary>
    public Dub Dub { get; }
}

/// <summary>The part of <c>GET /v1/me</c> a Models API client reads to size its gates.</summary>
internal sealed record AccountLimits(IReadOnlyDictionary<string, KeyModelLimits>? Models);

internal sealed record CreateVoiceBody(string Name, string Language, string? Genre, string? Style, string? Description);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DubbingAccount))]
[JsonSerializable(typeof(AccountLimits))]
[JsonSerializable(typeof(DubbingVoice))]
[JsonSerializable(typeof(DubbingVoicePage))]
[JsonSerializable(typeof(Dub))]
[JsonSerializable(typeof(CreateVoiceBody))]
internal sealed partial class DubbingJsonContext : JsonSerializerContext;
