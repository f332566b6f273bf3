using Tollgate.Server.Http;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Tollgate.Dubbing;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// The Dubbing API speaks camelCase JSON (the rest of Tollgate speaks snake_case), so its endpoints serialize with
/// these options rather than the global ones. Absent values are written as null, so every field is always present.
/// </summary>
internal static class DubbingJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = ServerJsonContext.Encoder,
    };

    public static IResult Ok<T>(T body, int status = StatusCodes.Status200OK) => TypedResults.Json(body, Options, statusCode: status);
}

/// <summary>
/// <c>GET /v1/me</c>: who is calling, the organization's credits this month (credits are per organization), and the
/// calling key's entitlements (<c>models</c>: per model its concurrency limit and monthly audio hours), which a client
/// reads to size its concurrency gate.
/// </summary>
internal readonly record struct AccountDto(
    string UserId,
    string? UserName,
    string OrganizationId,
    string? OrganizationName,
    string KeyId,
    int MonthlyCredits,
    long ApiCreditsUsed,
    int ApiCreditsLeft,
    string CreditsPeriod,
    DateTimeOffset CreditsResetAt,
    IReadOnlyDictionary<string, AccountModelDto> Models);

/// <summary>One entitlement of the calling key: the organization's pool for the model holds at most <c>concurrency</c> requests.</summary>
internal sealed record AccountModelDto(int Concurrency, double MonthlyAudioHours);

/// <summary>A voice of the library (<c>category</c> "stock") or one of the caller's own (<c>category</c> "custom").</summary>
internal sealed record VoiceDto(
    string VoiceId,
    string Name,
    string Language,
    string? Genre,
    string? Style,
    string? Description,
    string Category,
    string Status,
    double? SampleDuration,
    double? SampleLoudnessDb,
    string? ErrorCode,
    string? ErrorMessage,
    DateTimeOffset? CreatedAt)
{
    public static VoiceDto From(Voice v) => new(v.Id, v.Name, v.Language, v.Genre, v.Style, v.Description,
        v.IsStock ? "stock" : "custom", DubLifecycle.Wire(v.Status), Seconds(v.SampleDurationMs), v.SampleLoudnessDb,
        v.ErrorCode, v.ErrorMessage, v.IsStock ? null : v.CreatedAt);

    internal static double? Seconds(long? ms) => ms is { } value ? Math.Round(value / 1000.0, 3) : null;
}

/// <summary><c>GET /v1/voices</c>: one page, and the cursor of the next one (null on the last page).</summary>
internal sealed record VoicePageDto(IReadOnlyList<VoiceDto> Voices, string? NextCursor, bool HasMore);

/// <summary>
/// A dub. <c>inputDuration</c> is in seconds (known once preprocessed), <c>requiredCredits</c> what generating costs,
/// <c>apiCreditsUsed</c> what this dub has spent, <c>apiCreditsLeft</c> what the organization has left this month, and
/// <c>dubUrl</c> where the result is downloaded once the dub is done.
/// </summary>
internal sealed record DubDto(
    string DubId,
    string Name,
    string Status,
    string? SourceLanguage,
    string TargetLanguage,
    string? VoiceId,
    double? InputDuration,
    string? InputFormat,
    int? RequiredCredits,
    int ApiCreditsUsed,
    int ApiCreditsLeft,
    string? DubUrl,
    string? ErrorCode,
    string? ErrorMessage,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static DubDto From(Dub d, int creditsLeft, string baseUrl) => new(d.Id, d.Name, DubLifecycle.Wire(d.Status), d.SourceLanguage,
        d.TargetLanguage, d.VoiceId, VoiceDto.Seconds(d.InputDurationMs), d.InputFormat, d.RequiredCredits, d.ApiCreditsUsed, creditsLeft,
        d.Status == DubStatus.Done ? string.Create(CultureInfo.InvariantCulture, $"{baseUrl}/v1/me/dubs/{d.Id}/result") : null,
        d.ErrorCode, d.ErrorMessage, d.CreatedAt, d.UpdatedAt);
}

/// <summary><c>POST /v1/me/voices</c>.</summary>
internal sealed record CreateVoiceRequest(string? Name, string? Language, string? Genre, string? Style, string? Description);

/// <summary><c>POST /v1/me/dubs</c> as JSON (the input is fetched from <c>sourceUrl</c>); as multipart the same fields are form fields beside <c>file</c>.</summary>
internal sealed record CreateDubRequest(string? SourceUrl, string? Name, string? SourceLanguage, string? TargetLanguage, string? VoiceId);
