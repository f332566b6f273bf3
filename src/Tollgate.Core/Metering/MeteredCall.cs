using Tollgate.Identity;
using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>When a metered request is charged.</summary>
internal enum ChargePolicy
{
    /// <summary>A batch file: charged its measured duration only if the backend says it succeeded.</summary>
    OnSuccess,

    /// <summary>A stream: charged exactly the audio it accepted, however it ended.</summary>
    Accepted,
}

/// <summary>
/// One metered request from admission to its last byte: the concurrency lease it holds and the audio it reserves,
/// settled exactly once. Backends only report what they measured (<see cref="AdvanceToAsync"/> for a stream,
/// <see cref="Succeeded"/> for a batch file); <see cref="SettleAsync"/> commits the charge to the ledger (durably) or
/// gives the reservation back, and frees the lease. The server calls it before the response's last byte or the
/// WebSocket's close frame leaves, so a client that sees the end finds its usage recorded and its slot free.
/// </summary>
internal sealed class MeteredCall : IAudioMeter
{
    private readonly AudioQuota _quota;
    private readonly Observability.TollgateMetrics _metrics;
    private readonly ChargePolicy _policy;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private QuotaReservation _reservation;
    private Lease _lease;
    private long _chargeMs;
    private long _acceptedMs;
    private long _remainingMs = -1;
    private bool _organizationCap;
    private Task<bool>? _settled;

    public MeteredCall(AudioQuota quota, Observability.TollgateMetrics metrics, Principal principal, QuotaScope scope, string requestId, Lease lease, ChargePolicy policy)
    {
        _quota = quota;
        _metrics = metrics;
        Principal = principal;
        RequestId = requestId;
        _lease = lease;
        _policy = policy;
        _reservation = QuotaReservation.Begin(scope);
    }

    public Principal Principal { get; }

    /// <summary>The id the ledger records this request's charge under.</summary>
    public string RequestId { get; }

    public QuotaScope Scope => _reservation.Scope;

    /// <summary>Milliseconds reserved so far (for a stream: the audio accepted).</summary>
    public long AcceptedMs => Volatile.Read(ref _acceptedMs);

    /// <summary>Why the charge could not be recorded, when <see cref="SettleAsync"/> answered false (for the server's log).</summary>
    public Exception? SettleError { get; private set; }

    /// <summary>Whether <see cref="SettleAsync"/> has begun: nothing more can be reserved.</summary>
    public bool IsSettled => _settled is not null;

    /// <summary>Admission: whether the month has anything left for this request; the refusal when not.</summary>
    public async ValueTask<QuotaRefusal?> CheckStandingAsync(CancellationToken ct)
    {
        var standing = await _quota.StandingAsync(Scope, ct).ConfigureAwait(false);
        Remember(standing.RemainingMs, standing.LimitedByOrganizationCap);
        return standing.RemainingMs > 0 ? null : Refusal();
    }

    /// <summary>Batch: reserves all of <paramref name="ms"/> or nothing (parallel uploads can never together pass a limit).</summary>
    public async ValueTask<bool> ReserveAsync(long ms, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfSettled();
            return await GrowAsync(ms, ReserveMode.Exact, ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Batch: the backend answered successfully after processing <paramref name="measuredMs"/> (charged up to what is reserved).</summary>
    public void Succeeded(long measuredMs) => _chargeMs = Math.Max(0, measuredMs);

    /// <inheritdoc />
    public async ValueTask<bool> AdvanceToAsync(long totalMs, CancellationToken cancellationToken)
    {
        if (totalMs <= Volatile.Read(ref _acceptedMs))
        {
            return true;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var wanted = totalMs - _reservation.Milliseconds;
            // Once settled, the stream is over: nothing more is reserved, so nothing can be left held.
            return wanted <= 0 || (!IsSettled && await GrowAsync(wanted, ReserveMode.UpTo, cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<bool> GrowAsync(long ms, ReserveMode mode, CancellationToken ct)
    {
        var grant = await _quota.ReserveAsync(_reservation, ms, mode, ct).ConfigureAwait(false);
        _reservation = grant.Reservation;
        Volatile.Write(ref _acceptedMs, _reservation.Milliseconds);
        Remember(grant.RemainingMs, grant.LimitedByOrganizationCap);
        return grant.GrantedMs == ms;
    }

    /// <summary>What a refusal of this request says: the time left (as last seen by a decision) and the month's reset.</summary>
    public QuotaRefusal Refusal() => AudioQuota.Refusal(Scope, Math.Max(0, _remainingMs), _organizationCap);

    /// <summary>
    /// Commits the charge (the ledger row is durable when this completes) or gives the reservation back, then frees
    /// the lease. Runs once; every later or concurrent call gets the same task. Never throws: false when the charge
    /// could not be recorded (the reservation is then given back).
    /// </summary>
    public Task<bool> SettleAsync()
    {
        var settled = _settled;
        if (settled is not null)
        {
            return settled;
        }
        var fresh = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _settled, fresh.Task, null) is { } raced)
        {
            return raced;
        }
        _ = RunSettleAsync(fresh);
        return fresh.Task;
    }

    private async Task RunSettleAsync(TaskCompletionSource<bool> done)
    {
        var recorded = true;
        // Waits for a reservation in progress; whatever takes the gate after this sees IsSettled and reserves nothing.
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var reservation = _reservation;
            var charge = _policy == ChargePolicy.Accepted ? reservation.Milliseconds : _chargeMs;
            if (charge > 0)
            {
                await _quota.CommitAsync(reservation, charge, RequestId, Principal, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await _quota.ReleaseAsync(reservation, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            recorded = false;
            SettleError = ex;
            _metrics.SettleFailed(Scope.Model);
        }
        finally
        {
            var lease = _lease;
            _lease = default;
            if (lease.IsHeld)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
                _metrics.LeaseReleased(Scope.Model);
            }
            _gate.Release();
            done.TrySetResult(recorded);
        }
    }

    private void Remember(long remainingMs, bool organizationCap)
    {
        _remainingMs = remainingMs;
        _organizationCap = organizationCap;
    }

    private void ThrowIfSettled()
    {
        if (IsSettled)
        {
            throw new InvalidOperationException("This request's metering is already settled.");
        }
    }
}
