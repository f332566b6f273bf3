using Tollgate.Metering;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Step 5: the caller's pools must have audio time left this month. The exact amount is reserved later, once it is
/// known: a batch file after its duration is probed, a stream as its audio arrives.
/// </summary>
internal sealed class QuotaStep(QuotaUsageNote usage) : IAdmissionStep
{
    public string Name => "tollgate.admission.quota";

    public ValueTask<Rejection?> AdmitAsync(HttpContext context, AdmissionFeature feature)
    {
        if (feature.Call is not { } call)
        {
            return default;
        }
        var pending = call.CheckStandingAsync(context.RequestAborted);
        if (pending.IsCompletedSuccessfully && pending.Result is null)
        {
            return default;
        }
        return RefuseAsync(context, feature, call, pending);
    }

    /// <summary>The refusal (rare) says how the organization's pool was used: worth a ledger read.</summary>
    private async ValueTask<Rejection?> RefuseAsync(HttpContext context, AdmissionFeature feature, MeteredCall call, ValueTask<QuotaRefusal?> pending)
    {
        if (await pending.ConfigureAwait(false) is not { } refused)
        {
            return null;
        }
        var model = feature.Model!.Name;
        var note = await usage.DescribeAsync(call, refused, context.RequestAborted).ConfigureAwait(false);
        return QuotaRejection.For(model, refused, note);
    }
}

/// <summary>
/// What a pooled quota refusal adds: how much the key's organization has used of the pool this month (its model's, or
/// every model's under the organization-wide cap) and through how many keys, read from the ledger. A ledger that cannot
/// be read leaves the refusal as it is.
/// </summary>
internal sealed partial class QuotaUsageNote(IUsageLedger ledger, ILogger<QuotaUsageNote> logger)
{
    public async ValueTask<string?> DescribeAsync(MeteredCall call, QuotaRefusal refusal, CancellationToken ct)
    {
        var scope = call.Scope;
        try
        {
            var totals = await ledger.MonthTotalsAsync(scope.OrgId, scope.Period, ct).ConfigureAwait(false);
            var usedMs = totals.Where(t => refusal.OrganizationCap || string.Equals(t.Model, scope.Model, StringComparison.Ordinal)).Sum(t => t.Milliseconds);
            var keys = await ledger.KeyCountAsync(scope.OrgId, refusal.OrganizationCap ? null : scope.Model, scope.Period, ct).ConfigureAwait(false);
            return FormattableString.Invariant(
                $"This organization has used {QuotaRejection.Hours(usedMs)} ({usedMs} ms) {(refusal.OrganizationCap ? "across all models" : "of " + scope.Model)} this month, through {keys} {(keys == 1 ? "key" : "keys")}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogUsageUnread(logger, ex);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A quota refusal was sent without the organization's usage: the ledger could not be read")]
    private static partial void LogUsageUnread(ILogger logger, Exception ex);
}

/// <summary>How a quota refusal reads, at admission, after a probe or mid-stream.</summary>
internal static class QuotaRejection
{
    public static Rejection For(string model, QuotaRefusal refusal, string? usage = null) =>
        new(StatusCodes.Status403Forbidden, CloseCodes.LimitExceeded, ErrorCodes.QuotaExceeded, WithUsage(Detail(model, refusal), usage));

    /// <summary>A probed file that does not fit in what remains.</summary>
    public static Rejection ForFile(string model, long fileMs, QuotaRefusal refusal, string? usage = null) =>
        new(StatusCodes.Status403Forbidden, CloseCodes.LimitExceeded, ErrorCodes.QuotaExceeded,
            WithUsage(Sentence(model, refusal, FormattableString.Invariant($"exceeded: this file is {fileMs} ms of audio but only ")), usage));

    private static string WithUsage(string detail, string? usage) => usage is null ? detail : detail + " " + usage;

    public static string Detail(string model, QuotaRefusal refusal) =>
        Sentence(model, refusal, "exhausted: ");

    private static string Sentence(string model, QuotaRefusal refusal, string verdict) =>
        FormattableString.Invariant(
            $"Monthly audio quota {(refusal.OrganizationCap ? "of this organization" : $"for {model}")} {verdict}{Hours(refusal.RemainingMs)} remain ({refusal.RemainingMs} ms); it resets at {refusal.ResetsAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}.");

    public static string Hours(long ms) => FormattableString.Invariant($"{ms / 3_600_000d:0.####} audio hours");
}
