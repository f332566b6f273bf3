using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Platform;

namespace Tollgate.Server.Admin.Insights;

/// <summary>One file of a Platform job, as the console shows it (its stored audio's key and its result stay inside).</summary>
internal sealed record PlatformFileDto(int Index, string? Filename, string FileExtension, long DurationMs, string Status, int ApiCallsCharged,
    string? ErrorCode, string? ErrorDetail, bool HasResult, DateTimeOffset UpdatedAt)
{
    public static PlatformFileDto From(PlatformFile f) => new(f.Index, f.Filename, f.FileExtension, f.DurationMs, OrgActivityQuery.Wire(f.Status),
        f.ApiCallsCharged, f.ErrorCode, f.ErrorDetail, f.ResultJson is not null, f.UpdatedAt);
}

/// <summary>A Platform job of an organization; <c>files</c> only in the detail (null in lists).</summary>
internal sealed record PlatformJobDto(string Id, string OrgId, string UserId, string KeyId, string Submission, string Status, string? ErrorCode,
    string? ErrorDetail, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? FinalizedAt, DateTimeOffset? CompletedAt,
    DateTimeOffset? ExpiresAt, IReadOnlyList<PlatformFileDto>? Files)
{
    public static PlatformJobDto From(PlatformJob j, bool withFiles) => new(j.Id, j.OrgId, j.UserId, j.KeyId,
        j.Submission == PlatformSubmission.Realtime ? "realtime" : "file", OrgActivityQuery.Wire(j.Status), j.ErrorCode, j.ErrorDetail,
        j.CreatedAt, j.UpdatedAt, j.FinalizedAt, j.CompletedAt, j.ExpiresAt, withFiles ? [.. j.Files.Select(PlatformFileDto.From)] : null);
}

/// <summary>A dub of an organization.</summary>
internal sealed record OrgDubDto(string Id, string OrgId, string UserId, string Name, string? SourceLanguage, string TargetLanguage, string? VoiceId,
    string Status, long? InputDurationMs, int? RequiredCredits, int ApiCreditsUsed, string? ErrorCode, string? ErrorMessage,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static OrgDubDto From(Dub d) => new(d.Id, d.OrgId, d.UserId, d.Name, d.SourceLanguage, d.TargetLanguage, d.VoiceId,
        DubLifecycle.Wire(d.Status), d.InputDurationMs, d.RequiredCredits, d.ApiCreditsUsed, d.ErrorCode, d.ErrorMessage, d.CreatedAt, d.UpdatedAt);
}

/// <summary>How a page request ended: the page, or why not (no organization; a cursor that names none of its items).</summary>
internal enum PageOutcome
{
    Ok,
    NoOrganization,
    UnknownCursor,
}

/// <summary>
/// An organization's recent Platform jobs and dubs, newest first, a page at a time, and one of them by id. A job or
/// dub of another organization reads as missing.
/// </summary>
internal sealed class OrgActivityQuery(IIdentityStore identity, IPlatformStore platform, IDubbingStore dubbing)
{
    /// <summary>One page of jobs (<paramref name="limit"/> 1 to 1000; <paramref name="after"/> the previous page's <c>next</c>).</summary>
    public async Task<(PageOutcome Outcome, PageDto<PlatformJobDto>? Page)> ListJobsAsync(string orgId, int limit, string? after, CancellationToken ct = default)
    {
        if (await identity.GetOrganizationAsync(orgId, ct) is null)
        {
            return (PageOutcome.NoOrganization, null);
        }
        if (after is not null && (await platform.GetJobAsync(after, ct))?.OrgId != orgId)
        {
            return (PageOutcome.UnknownCursor, null);
        }
        var rows = await platform.PageByOrgAsync(orgId, limit + 1, after, ct);
        return (PageOutcome.Ok, AdminResults.Page(rows, limit, j => j.Id, j => PlatformJobDto.From(j, withFiles: false)));
    }

    /// <summary>The job with its files, or null when <paramref name="orgId"/> has no job <paramref name="jobId"/>.</summary>
    public async Task<PlatformJobDto?> GetJobAsync(string orgId, string jobId, CancellationToken ct = default) =>
        await platform.GetJobAsync(jobId, ct) is { } job && job.OrgId == orgId ? PlatformJobDto.From(job, withFiles: true) : null;

    /// <summary>One page of dubs, as <see cref="ListJobsAsync"/>.</summary>
    public async Task<(PageOutcome Outcome, PageDto<OrgDubDto>? Page)> ListDubsAsync(string orgId, int limit, string? after, CancellationToken ct = default)
    {
        if (await identity.GetOrganizationAsync(orgId, ct) is null)
        {
            return (PageOutcome.NoOrganization, null);
        }
        if (after is not null && (await dubbing.GetDubAsync(after, ct))?.OrgId != orgId)
        {
            return (PageOutcome.UnknownCursor, null);
        }
        var rows = await dubbing.PageDubsByOrgAsync(orgId, limit + 1, after, ct);
        return (PageOutcome.Ok, AdminResults.Page(rows, limit, d => d.Id, OrgDubDto.From));
    }

    /// <summary>The dub, or null when <paramref name="orgId"/> has no dub <paramref name="dubId"/>.</summary>
    public async Task<OrgDubDto?> GetDubAsync(string orgId, string dubId, CancellationToken ct = default) =>
        await dubbing.GetDubAsync(dubId, ct) is { } dub && dub.OrgId == orgId ? OrgDubDto.From(dub) : null;

    /// <summary>The Platform API's own status words (its jobs' <c>status</c>).</summary>
    public static string Wire(PlatformJobStatus status) => Server.Platform.PlatformJson.Status(status);

    public static string Wire(PlatformFileStatus status) => Server.Platform.PlatformJson.Status((PlatformJobStatus)(int)status);
}
