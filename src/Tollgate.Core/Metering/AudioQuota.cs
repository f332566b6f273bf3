using Tollgate.Identity;
using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>Why audio time was refused, with what a client needs to know: what remains and when the month resets.</summary>
internal readonly record struct QuotaRefusal(long RemainingMs, DateTimeOffset ResetsAt, bool OrganizationCap);

/// <summary>
/// Audio time a request holds: against its (organization, model) pool and, when the organization has a cap, against
/// the organization's all-models pool too. Both move together, so neither can be exceeded.
/// </summary>
internal struct AudioReservation
{
    internal QuotaReservation ModelPart;
    internal QuotaReservation OrgPart;

    public required PoolKey Pool { get; init; }
    public required MonthPeriod Period { get; init; }
    public required long LimitMs { get; init; }
    public required long OrgCapMs { get; init; }

    public readonly long Milliseconds => ModelPart.Milliseconds;
}

/// <summary>
/// The monthly audio-hour quota of DESIGN 3.3 as one service: admission checks, batch reservations (exact or
/// nothing), streaming reservations (as much as remains) and durable commits to the ledger.
/// </summary>
internal sealed class AudioQuota(IQuotaMeter meter, IUsageLedger ledger, TimeProvider time, QuotaOptions options)
{
    /// <summary>The model name of an organization's all-models pool.</summary>
    public const string AllModels = "*";

    /// <summary>Admission (step 5): a request is let in only while its pool has time left this month.</summary>
    public bool HasTimeLeft(Principal principal, string model, ModelLimits limits, out QuotaRefusal refusal)
    {
        var period = MonthPeriod.Current(time);
        var remaining = meter.Remaining(new PoolKey(principal.OrgId, model), period, limits.MonthlyAudioMs);
        var capMs = options.CapMs(principal.OrgId);
        var orgRemaining = capMs > 0 ? meter.Remaining(new PoolKey(principal.OrgId, AllModels), period, capMs) : long.MaxValue;
        refusal = new QuotaRefusal(Math.Min(remaining, orgRemaining), period.End, orgRemaining < remaining);
        return remaining > 0 && orgRemaining > 0;
    }

    /// <summary>Starts an empty reservation for a request of <paramref name="principal"/> on <paramref name="model"/> this month.</summary>
    public AudioReservation Begin(Principal principal, string model, ModelLimits limits) => new()
    {
        Pool = new PoolKey(principal.OrgId, model),
        Period = MonthPeriod.Current(time),
        LimitMs = limits.MonthlyAudioMs,
        OrgCapMs = options.CapMs(principal.OrgId),
    };

    /// <summary>Batch: reserves all of <paramref name="ms"/> or nothing.</summary>
    public bool TryReserve(ref AudioReservation reservation, long ms, out QuotaRefusal refusal)
    {
        if (!meter.TryReserve(reservation.Pool, reservation.Period, reservation.LimitMs, ms, out var modelPart))
        {
            meter.Release(modelPart);
            refusal = Refusal(reservation);
            return false;
        }
        if (reservation.OrgCapMs > 0)
        {
            if (!meter.TryReserve(OrgPool(reservation), reservation.Period, reservation.OrgCapMs, ms, out var orgPart))
            {
                meter.Release(orgPart);
                meter.Release(modelPart);
                refusal = Refusal(reservation);
                return false;
            }
            reservation.OrgPart = Merge(reservation.OrgPart, orgPart);
        }
        reservation.ModelPart = Merge(reservation.ModelPart, modelPart);
        refusal = default;
        return true;
    }

    /// <summary>Streaming: reserves as much of <paramref name="ms"/> as remains and returns it (less than asked = cut off).</summary>
    public long ReserveUpTo(ref AudioReservation reservation, long ms)
    {
        var granted = meter.ReserveUpTo(reservation.Pool, reservation.Period, reservation.LimitMs, ms, ref reservation.ModelPart);
        if (reservation.OrgCapMs > 0 && granted > 0)
        {
            var orgGranted = meter.ReserveUpTo(OrgPool(reservation), reservation.Period, reservation.OrgCapMs, granted, ref reservation.OrgPart);
            if (orgGranted < granted)
            {
                // The organization cap covers less than the model pool granted: give the difference back.
                meter.Return(ref reservation.ModelPart, granted - orgGranted);
                granted = orgGranted;
            }
        }
        return granted;
    }

    /// <summary>What a refusal of this reservation says: the time left and the reset.</summary>
    public QuotaRefusal Refusal(in AudioReservation reservation)
    {
        var remaining = meter.Remaining(reservation.Pool, reservation.Period, reservation.LimitMs);
        var orgRemaining = reservation.OrgCapMs > 0
            ? meter.Remaining(OrgPool(reservation), reservation.Period, reservation.OrgCapMs)
            : long.MaxValue;
        return new QuotaRefusal(Math.Min(remaining, orgRemaining), reservation.Period.End, orgRemaining < remaining);
    }

    /// <summary>
    /// Charges <paramref name="chargedMs"/> (≤ reserved) to the ledger, durably, then settles the reservation.
    /// Idempotent by <paramref name="requestId"/>: a repeated commit writes nothing and counts nothing again.
    /// </summary>
    public async Task CommitAsync(AudioReservation reservation, long chargedMs, string requestId, Principal principal, CancellationToken ct = default)
    {
        chargedMs = Math.Clamp(chargedMs, 0, reservation.Milliseconds);
        if (chargedMs == 0)
        {
            Release(reservation);
            return;
        }
        var charge = new UsageCharge(requestId, principal.OrgId, principal.UserId, principal.KeyId, reservation.Pool.Model,
            chargedMs, reservation.Period, time.GetUtcNow());
        bool written;
        try
        {
            written = await ledger.AppendAsync(charge, ct).ConfigureAwait(false);
        }
        catch
        {
            // Not recorded: hold nothing that the ledger does not know about.
            Release(reservation);
            throw;
        }
        if (!written)
        {
            Release(reservation);
            return;
        }
        meter.Commit(reservation.ModelPart, chargedMs);
        if (reservation.OrgCapMs > 0)
        {
            meter.Commit(reservation.OrgPart, Math.Min(chargedMs, reservation.OrgPart.Milliseconds));
        }
    }

    /// <summary>Returns everything reserved: nothing is charged.</summary>
    public void Release(in AudioReservation reservation)
    {
        meter.Release(reservation.ModelPart);
        meter.Release(reservation.OrgPart);
    }

    private static PoolKey OrgPool(in AudioReservation reservation) => new(reservation.Pool.OrgId, AllModels);

    private static QuotaReservation Merge(QuotaReservation into, QuotaReservation add)
    {
        if (into.Counter is null)
        {
            return add;
        }
        into.Milliseconds += add.Milliseconds;
        return into;
    }
}
