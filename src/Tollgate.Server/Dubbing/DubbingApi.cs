using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Server.Admission;
using Tollgate.Server.Hosting;
using Tollgate.Server.Http;
using Tollgate.Server.Models;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// The Dubbing API (<c>/v1/...</c>, <c>Authorization: Api-Key &lt;key&gt;</c>, camelCase JSON): the account and its
/// credits, the voice library and custom voices, and dubs through their lifecycle. Dubs and custom voices belong to the
/// user whose key created them (the paths say <c>/me</c> and rate limits are per user): another user's — even in the
/// same organization — are 404. Credits are pooled per organization.
/// </summary>
internal static class DubbingApi
{
    private const long MaxJsonBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapDubbingApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Dubbing").RequireAdmission(new AdmissionMetadata(Surface.Dubbing));
        v1.MapGet("/me", (Func<HttpContext, Task>)new AccountEndpoint(app.ServiceProvider).GetAsync).WithName("Dubbing_GetAccount").Authenticated()
            .WithSummary("The caller's account: user, organization, the organization's credits this month, and the key's models with their concurrency and monthly audio hours.")
            .Produces<AccountDto>();
        v1.MapGet("/voices", ListVoices).WithName("Dubbing_ListVoices").Authenticated()
            .WithSummary("The voice library (stock voices and your ready custom voices): filters search, genres, languages, styles; paged by cursor.")
            .Produces<VoicePageDto>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);
        v1.MapPost("/me/voices", CreateVoice).WithName("Dubbing_CreateVoice").Authenticated()
            .WithSummary("Create a custom voice (JSON name, language, genre, style, description); train it with /clone.")
            .Accepts<CreateVoiceRequest>("application/json")
            .Produces<VoiceDto>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status422UnprocessableEntity);
        v1.MapGet("/me/voices/{voiceId}", GetVoice).WithName("Dubbing_GetVoice").Authenticated()
            .WithSummary("One of your custom voices; poll it while it trains (no more than once every 3 seconds).")
            .Produces<VoiceDto>().Produces<ErrorBody>(StatusCodes.Status404NotFound);
        v1.MapPost("/me/voices/{voiceId}/clone", CloneVoice).WithName("Dubbing_CloneVoice").Authenticated()
            .WithSummary("Train a custom voice from a sample (multipart field 'file', at least 1 s of audio).")
            .Produces<VoiceDto>(StatusCodes.Status202Accepted).Produces<ErrorBody>(StatusCodes.Status409Conflict)
            .DisableAntiforgery();
        v1.MapPost("/me/dubs", CreateDub).WithName("Dubbing_CreateDub").Authenticated()
            .WithSummary("Create a dub from an uploaded file (multipart 'file' + targetLanguage, sourceLanguage, voiceId, name) or a link (JSON with sourceUrl).")
            .Produces<DubDto>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest)
            .Produces<ErrorBody>(StatusCodes.Status413PayloadTooLarge).Produces<ErrorBody>(StatusCodes.Status422UnprocessableEntity)
            .DisableAntiforgery();
        v1.MapGet("/me/dubs/{dubId}", GetDub).WithName("Dubbing_GetDub").Authenticated()
            .WithSummary("A dub's status; poll no more than once every 3 seconds. dubUrl is set once it is done.")
            .Produces<DubDto>().Produces<ErrorBody>(StatusCodes.Status404NotFound);
        v1.MapPost("/me/dubs/{dubId}/preprocess", Preprocess).WithName("Dubbing_PreprocessDub").Authenticated()
            .WithSummary("Start preprocessing a new dub: its input is measured (inputDuration) and priced (requiredCredits).")
            .Produces<DubDto>(StatusCodes.Status202Accepted).Produces<ErrorBody>(StatusCodes.Status409Conflict);
        v1.MapPost("/me/dubs/{dubId}/generate", Generate).WithName("Dubbing_GenerateDub").Authenticated()
            .WithSummary("Start generating a preprocessed dub: its requiredCredits are charged (refunded if it fails).")
            .Produces<DubDto>(StatusCodes.Status202Accepted).Produces<ErrorBody>(StatusCodes.Status402PaymentRequired)
            .Produces<ErrorBody>(StatusCodes.Status409Conflict);
        v1.MapGet("/me/dubs/{dubId}/result", GetResult).WithName("Dubbing_GetDubResult").Authenticated()
            .WithSummary("The rendered dub (audio/wav) once it is done: the reference processor's stand-in output, see the docs.")
            .Produces(StatusCodes.Status200OK, contentType: "audio/wav").Produces<ErrorBody>(StatusCodes.Status409Conflict);
        return app;
    }

    /// <summary>What every endpoint of the surface may answer before it runs: 401 from authentication, 429 from the rate windows.</summary>
    private static RouteHandlerBuilder Authenticated(this RouteHandlerBuilder endpoint) =>
        endpoint.Produces<ErrorBody>(StatusCodes.Status401Unauthorized).Produces<ErrorBody>(StatusCodes.Status429TooManyRequests);

    internal static Principal Caller(HttpContext context) =>
        context.Features.Get<AdmissionFeature>()?.Principal
        ?? throw new InvalidOperationException("The Dubbing API is only reached through admission: call app.UseAdmission() before app.MapDubbingApi().");

    private static string BaseUrl(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}";

    private static IResult Error(int status, string code, string detail) => ApiError.Result(status, code, detail);

    private static IResult Refused(DubbingRefusal refusal) => Error(refusal.Kind switch
    {
        RefusalKind.NotFound => StatusCodes.Status404NotFound,
        RefusalKind.Conflict => StatusCodes.Status409Conflict,
        RefusalKind.InsufficientCredits => StatusCodes.Status402PaymentRequired,
        RefusalKind.BadInput => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status422UnprocessableEntity,
    }, refusal.Code, refusal.Detail);

    private static async Task<IResult> DubAsync(HttpContext context, DubbingRequests dubbing, Dub dub, int status, CancellationToken ct)
    {
        var balance = await dubbing.BalanceAsync(dub.OrgId, ct);
        return DubbingJson.Ok(DubDto.From(dub, balance.Left, BaseUrl(context)), status);
    }

    // ---- account and voices -------------------------------------------------------------------------------------

    private static async Task<IResult> ListVoices(HttpContext context, IDubbingStore store, CancellationToken ct)
    {
        var query = context.Request.Query;
        var limit = VoiceLibrary.DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (limitText.Count != 1 || !int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > VoiceLibrary.MaxLimit))
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, $"limit must be a whole number from 1 to {VoiceLibrary.MaxLimit}.");
        }
        var cursor = query["cursor"].ToString();
        if (!VoiceLibrary.IsValidCursor(cursor))
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, "cursor is not one this API returned: pass nextCursor from the previous page.");
        }
        var search = query["search"].ToString().Trim();
        if (search.Length > 200)
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, "search must be at most 200 characters.");
        }
        var voices = await store.ListVoicesAsync(Caller(context).UserId, ct);
        var page = VoiceLibrary.Page(voices, new VoiceQuery(search.Length == 0 ? null : search,
            List(query["genres"]), List(query["languages"]), List(query["styles"]), limit, cursor.Length == 0 ? null : cursor));
        return DubbingJson.Ok(new VoicePageDto([.. page.Voices.Select(VoiceDto.From)], page.NextCursor, page.NextCursor is not null));
    }

    /// <summary>A list filter, given repeated (<c>?languages=en&amp;languages=fr</c>) or comma-separated (<c>?languages=en,fr</c>).</summary>
    private static string[] List(StringValues values) =>
        [.. values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.OrdinalIgnoreCase)];

    private static async Task<IResult> CreateVoice(HttpContext context, DubbingRequests dubbing, CancellationToken ct)
    {
        var (body, invalid) = await ReadJsonAsync<CreateVoiceRequest>(context, "{\"name\", \"language\"}", ct);
        if (invalid is not null)
        {
            return invalid;
        }
        var created = await dubbing.CreateVoiceAsync(Caller(context), new NewVoice(body?.Name, body?.Language, body?.Genre, body?.Style, body?.Description), ct);
        if (created.Refusal is { } refusal)
        {
            return Refused(refusal);
        }
        context.Response.Headers.Location = $"/v1/me/voices/{created.Value!.Id}";
        return DubbingJson.Ok(VoiceDto.From(created.Value), StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetVoice(HttpContext context, string voiceId, DubbingRequests dubbing, CancellationToken ct) =>
        await dubbing.GetOwnVoiceAsync(Caller(context), voiceId, ct) is { } voice
            ? DubbingJson.Ok(VoiceDto.From(voice))
            : Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No voice '{voiceId}'.");

    private static async Task<IResult> CloneVoice(HttpContext context, string voiceId, DubbingRequests dubbing, IOptions<TollgateOptions> options, CancellationToken ct)
    {
        var caller = Caller(context);
        // Refuse before reading a sample that could not be used.
        if ((await dubbing.CheckCloneAsync(caller, voiceId, ct)).Refusal is { } early)
        {
            return Refused(early);
        }
        var (upload, rejection) = await SpoolUploadAsync(context, options, "Send the voice sample as the multipart field 'file'.");
        if (rejection is not null)
        {
            return rejection;
        }
        DubbingResult<Voice> cloned;
        await using (upload)
        {
            cloned = await dubbing.CloneAsync(caller, voiceId, upload!.File!, ct);
        }
        return cloned.Refusal is { } refusal ? Refused(refusal) : DubbingJson.Ok(VoiceDto.From(cloned.Value!), StatusCodes.Status202Accepted);
    }

    // ---- dubs ---------------------------------------------------------------------------------------------------

    private static async Task<IResult> CreateDub(HttpContext context, DubbingRequests dubbing, SourceFetcher fetcher, IOptions<TollgateOptions> options, CancellationToken ct)
    {
        var caller = Caller(context);
        DubbingResult<Dub> created;
        if (context.Request.HasJsonContentType())
        {
            var (body, invalid) = await ReadJsonAsync<CreateDubRequest>(context, "{\"sourceUrl\", \"targetLanguage\"}", ct);
            if (invalid is not null)
            {
                return invalid;
            }
            var request = new NewDub(body?.Name, body?.SourceLanguage, body?.TargetLanguage, body?.VoiceId);
            if (await dubbing.ValidateAsync(caller, request, ct) is { } refusal)
            {
                return Refused(refusal);
            }
            if (string.IsNullOrWhiteSpace(body?.SourceUrl))
            {
                return Error(StatusCodes.Status422UnprocessableEntity, ErrorCodes.MissingField,
                    "sourceUrl is required in a JSON body; to upload the file instead, send multipart/form-data with a 'file' part.");
            }
            var spool = options.Value.SpoolDirectory!;
            Directory.CreateDirectory(spool);
            var staged = Path.Combine(spool, "link-" + Guid.NewGuid().ToString("N") + ".part");
            string? linkName;
            try
            {
                linkName = await fetcher.FetchAsync(body.SourceUrl, staged, ct);
            }
            catch (SourceFetchException ex)
            {
                return Error(ex.Status, ex.Code, ex.Message);
            }
            await using var input = new FileStream(staged, FileMode.Open, FileAccess.Read, FileShare.None, 64 * 1024,
                FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            created = await dubbing.CreateDubAsync(caller, request, input, linkName, ct);
        }
        else if (IsMultipart(context.Request))
        {
            var (upload, rejection) = await SpoolUploadAsync(context, options, "Send the audio as the multipart field 'file', or JSON with 'sourceUrl'.");
            if (rejection is not null)
            {
                return rejection;
            }
            await using (upload)
            {
                var fields = upload!.Fields;
                var request = new NewDub(fields.GetValueOrDefault("name"), fields.GetValueOrDefault("sourceLanguage"),
                    fields.GetValueOrDefault("targetLanguage"), fields.GetValueOrDefault("voiceId"));
                created = await dubbing.CreateDubAsync(caller, request, upload.File!, upload.FileName, ct);
            }
        }
        else
        {
            return Error(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                "Send multipart/form-data with the audio as the 'file' part, or application/json with 'sourceUrl'.");
        }
        if (created.Refusal is { } refused)
        {
            return Refused(refused);
        }
        context.Response.Headers.Location = $"/v1/me/dubs/{created.Value!.Id}";
        return await DubAsync(context, dubbing, created.Value, StatusCodes.Status201Created, ct);
    }

    private static async Task<IResult> GetDub(HttpContext context, string dubId, DubbingRequests dubbing, CancellationToken ct) =>
        await dubbing.GetDubAsync(Caller(context), dubId, ct) is { } dub
            ? await DubAsync(context, dubbing, dub, StatusCodes.Status200OK, ct)
            : Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No dub '{dubId}'.");

    private static async Task<IResult> Preprocess(HttpContext context, string dubId, DubbingRequests dubbing, CancellationToken ct)
    {
        var result = await dubbing.PreprocessAsync(Caller(context), dubId, ct);
        return result.Value is { } dub ? await DubAsync(context, dubbing, dub, StatusCodes.Status202Accepted, ct) : Refused(result.Refusal!);
    }

    private static async Task<IResult> Generate(HttpContext context, string dubId, DubbingRequests dubbing, CancellationToken ct)
    {
        var result = await dubbing.GenerateAsync(Caller(context), dubId, ct);
        return result.Value is { } dub ? await DubAsync(context, dubbing, dub, StatusCodes.Status202Accepted, ct) : Refused(result.Refusal!);
    }

    private static async Task<IResult> GetResult(HttpContext context, string dubId, DubbingRequests dubbing, CancellationToken ct)
    {
        if (await dubbing.GetDubAsync(Caller(context), dubId, ct) is not { } dub)
        {
            return Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No dub '{dubId}'.");
        }
        if (dub.Status != DubStatus.Done)
        {
            return Error(StatusCodes.Status409Conflict, DubbingCodes.NotReady,
                $"Dub {dub.Id} is {DubLifecycle.Wire(dub.Status)}; its result can be downloaded once it is done.");
        }
        // The result stream is disposed by the result once it is sent. Last modified: when the dub was done.
        return await dubbing.OpenResultAsync(dub, ct) is { } result
            ? TypedResults.Stream(result, "audio/wav", dub.Id + ".wav", lastModified: dub.UpdatedAt, enableRangeProcessing: true)
            : Error(StatusCodes.Status410Gone, "result_missing", $"The result of dub {dub.Id} is no longer on the server.");
    }

    // ---- bodies -------------------------------------------------------------------------------------------------

    private static bool IsMultipart(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    /// <summary>A small JSON body (at most 64 KB), or the error to answer with.</summary>
    private static async Task<(T? Body, IResult? Error)> ReadJsonAsync<T>(HttpContext context, string expected, CancellationToken ct) where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            return (null, Error(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", $"Send application/json: {expected}."));
        }
        if (context.Request.ContentLength > MaxJsonBytes)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"A JSON body may be at most {MaxJsonBytes / 1024} KB."));
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxJsonBytes;
        }
        try
        {
            return (await JsonSerializer.DeserializeAsync<T>(context.Request.Body, DubbingJson.Options, ct), null);
        }
        catch (JsonException)
        {
            return (null, Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, $"The body is not valid JSON of the expected shape: {expected}."));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"A JSON body may be at most {MaxJsonBytes / 1024} KB."));
        }
    }

    /// <summary>
    /// Streams the multipart body's <c>file</c> part to a delete-on-close spool file (cut at 100 MB, DESIGN 3.1); the
    /// upload (which the caller disposes) has a non-empty file, or the error to answer with.
    /// </summary>
    private static async Task<(BatchUpload? Upload, IResult? Error)> SpoolUploadAsync(HttpContext context, IOptions<TollgateOptions> options, string missing)
    {
        var (upload, rejection) = await BatchUpload.ReadAsync(context, options.Value.SpoolDirectory!, "file");
        if (rejection is { } refused)
        {
            return (null, Error(refused.Status, refused.Code, refused.Code == ErrorCodes.MissingField ? missing : refused.Detail));
        }
        if (upload!.File is null || upload.Length == 0)
        {
            var empty = upload.File is not null;
            await upload.DisposeAsync();
            return (null, empty
                ? Error(StatusCodes.Status400BadRequest, ErrorCodes.EmptyFile, "The uploaded file is empty.")
                : Error(StatusCodes.Status422UnprocessableEntity, ErrorCodes.MissingField, missing));
        }
        return (upload, null);
    }
}
