using Tollgate.Metering;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 5: the caller's (organization, model) pool must have audio time left this month. The exact amount is
/// reserved later, once it is known: a batch file after its duration is probed, a stream as its audio arrives.
/// </summary>
internal sealed class QuotaStep(RequestDelegate next, AudioQuota quota)
{
    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.Get<AdmissionFeature>();
        if (feature is not { Metered: true, Model: { } model, Principal: { } principal, Limits: { } limits })
        {
            return next(context);
        }
        if (!quota.HasTimeLeft(principal, model.Name, limits, out var refusal))
        {
            return QuotaRejection.For(model.Name, refusal).WriteAsync(context);
        }
        feature.RequestId = "req_" + Guid.CreateVersion7().ToString("N");
        return next(context);
    }
}

/// <summary>How a quota refusal reads, at admission, after a probe or mid-stream.</summary>
internal static class QuotaRejection
{
    public static Rejection For(string model, QuotaRefusal refusal) =>
        new(StatusCodes.Status403Forbidden, CloseCodes.LimitExceeded, ErrorCodes.QuotaExceeded, Detail(model, refusal));

    public static string Detail(string model, QuotaRefusal refusal) =>
        Sentence(model, refusal, "exhausted: ");

    /// <summary>A probed file that does not fit in what remains.</summary>
    public static string DetailForFile(string model, long fileMs, QuotaRefusal refusal) =>
        Sentence(model, refusal, FormattableString.Invariant($"exceeded: this file is {fileMs} ms of audio but only "));

    private static string Sentence(string model, QuotaRefusal refusal, string verdict) =>
        FormattableString.Invariant(
            $"Monthly audio quota {(refusal.OrganizationCap ? "of this organization" : $"for {model}")} {verdict}{Hours(refusal.RemainingMs)} remain ({refusal.RemainingMs} ms); it resets at {refusal.ResetsAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}.");

    public static string Hours(long ms) => FormattableString.Invariant($"{ms / 3_600_000d:0.####} audio hours");
}
