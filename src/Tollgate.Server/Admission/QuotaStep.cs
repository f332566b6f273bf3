using Tollgate.Metering;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 5: the caller's pools must have audio time left this month. The exact amount is reserved later, once it is
/// known: a batch file after its duration is probed, a stream as its audio arrives.
/// </summary>
internal sealed class QuotaStep : IAdmissionStep
{
    public string Name => "tollgate.admission.quota";

    public ValueTask<Rejection?> AdmitAsync(HttpContext context, AdmissionFeature feature)
    {
        if (feature.Call is not { } call)
        {
            return default;
        }
        var pending = call.CheckStandingAsync(context.RequestAborted);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<Rejection?>(Judge(feature, pending.Result))
            : JudgeAsync(feature, pending);
    }

    private static async ValueTask<Rejection?> JudgeAsync(AdmissionFeature feature, ValueTask<QuotaRefusal?> pending) =>
        Judge(feature, await pending.ConfigureAwait(false));

    private static Rejection? Judge(AdmissionFeature feature, QuotaRefusal? refusal) =>
        refusal is { } refused ? QuotaRejection.For(feature.Model!.Name, refused) : null;
}

/// <summary>How a quota refusal reads, at admission, after a probe or mid-stream.</summary>
internal static class QuotaRejection
{
    public static Rejection For(string model, QuotaRefusal refusal) =>
        new(StatusCodes.Status403Forbidden, CloseCodes.LimitExceeded, ErrorCodes.QuotaExceeded, Detail(model, refusal));

    /// <summary>A probed file that does not fit in what remains.</summary>
    public static Rejection ForFile(string model, long fileMs, QuotaRefusal refusal) =>
        new(StatusCodes.Status403Forbidden, CloseCodes.LimitExceeded, ErrorCodes.QuotaExceeded,
            Sentence(model, refusal, FormattableString.Invariant($"exceeded: this file is {fileMs} ms of audio but only ")));

    public static string Detail(string model, QuotaRefusal refusal) =>
        Sentence(model, refusal, "exhausted: ");

    private static string Sentence(string model, QuotaRefusal refusal, string verdict) =>
        FormattableString.Invariant(
            $"Monthly audio quota {(refusal.OrganizationCap ? "of this organization" : $"for {model}")} {verdict}{Hours(refusal.RemainingMs)} remain ({refusal.RemainingMs} ms); it resets at {refusal.ResetsAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}.");

    public static string Hours(long ms) => FormattableString.Invariant($"{ms / 3_600_000d:0.####} audio hours");
}
