using Tollgate.Identity;
using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>Why audio time was refused, with what a client needs to know: what remains and when the month resets.</summary>
internal readonly record struct QuotaRefusal(long RemainingMs, DateTimeOffset ResetsAt, bool OrganizationCap);

/// <summary>
/// The monthly audio-hour quota of DESIGN 3.3 as one service over the meter and the ledger: which pools a request
/// counts against, whether it may start, reservations, and durable commits (the ledger first, then the meter).
/// </summary>
internal sealed class AudioQuota(IQuotaMeter meter, IUsageLedger ledger, TimeProvider time, QuotaOptions options, Observability.TollgateMetrics metrics)
{
    /// <summary>The pools a request of <paramref name="principal"/> on <paramref name="model"/> counts against this month.</summary>
    public QuotaScope Scope(Principal principal, string model, ModelLimits limits) =>
        new(principal.OrgId, model, MonthPeriod.Current(time), limits.MonthlyAudioMs, options.CapMs(principal.OrgId));

    /// <summary>What the scope could still reserve (admission lets a request in only while something remains).</summary>
    public ValueTask<QuotaStanding> StandingAsync(QuotaScope scope, CancellationToken ct = default) => meter.StandingAsync(scope, ct);

    public static QuotaRefusal Refusal(in QuotaScope scope, long remainingMs, bool organizationCap) =>
        new(remainingMs, scope.Period.End, organizationCap);

    public async ValueTask<QuotaGrant> ReserveAsync(QuotaReservation reservation, long ms, ReserveMode mode, CancellationToken ct = default)
    {
        var grant = await meter.ReserveAsync(reservation, ms, mode, ct).ConfigureAwait(false);
        metrics.QuotaReserved(reservation.Scope.Model, grant.GrantedMs);
        return grant;
    }

    /// <summary>
    /// Charges <paramref name="chargedMs"/> (clamped to what is reserved) to the ledger, durably, then settles the
    /// reservation. Idempotent by <paramref name="requestId"/>: a repeated commit writes nothing and counts nothing
    /// again. When the ledger cannot be written the reservation is given back and the exception propagates.
    /// </summary>
    /// <returns>Whether a ledger row was written now.</returns>
    public async ValueTask<bool> CommitAsync(QuotaReservation reservation, long chargedMs, string requestId, Principal principal, CancellationToken ct = default)
    {
        chargedMs = Math.Clamp(chargedMs, 0, reservation.Milliseconds);
        if (chargedMs == 0)
        {
            await ReleaseAsync(reservation, ct).ConfigureAwait(false);
            return false;
        }
        var scope = reservation.Scope;
        var charge = new UsageCharge(requestId, principal.OrgId, principal.UserId, principal.KeyId, scope.Model,
            chargedMs, scope.Period, time.GetUtcNow());
        bool written;
        try
        {
            written = await ledger.AppendAsync(charge, ct).ConfigureAwait(false);
        }
        catch
        {
            // Not recorded: hold nothing that the ledger does not know about.
            await meter.ReleaseAsync(reservation, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (!written)
        {
            await meter.ReleaseAsync(reservation, ct).ConfigureAwait(false);
            return false;
        }
        await meter.CommitAsync(reservation, chargedMs, ct).ConfigureAwait(false);
        metrics.QuotaCommitted(scope.Model, chargedMs);
        return true;
    }

    /// <summary>Returns everything reserved: nothing is charged.</summary>
    public ValueTask ReleaseAsync(QuotaReservation reservation, CancellationToken ct = default) =>
        reservation.Milliseconds == 0 ? ValueTask.CompletedTask : meter.ReleaseAsync(reservation, ct);
}
