using Tollgate.Identity;
using Tollgate.Metering;
using Tollgate.Server.Admission;

namespace Tollgate.Server.Models;

/// <summary>
/// Meters one streaming connection as its audio arrives (DESIGN 3.3): each advance reserves the new audio time,
/// as much of it as the month has left. When less is granted than arrived the stream has used the remainder up and
/// must be cut off; what is charged at the end is exactly the audio accepted.
/// </summary>
internal sealed class StreamMeter
{
    private readonly AudioQuota _quota;
    private readonly Principal _principal;
    private readonly string _requestId;
    private AudioReservation _reservation;
    private bool _settled;

    public StreamMeter(AudioQuota quota, Principal principal, string model, ModelLimits limits, string requestId)
    {
        _quota = quota;
        _principal = principal;
        _requestId = requestId;
        Model = model;
        _reservation = quota.Begin(principal, model, limits);
    }

    public string Model { get; }

    /// <summary>Milliseconds of audio accepted (and reserved) so far.</summary>
    public long AcceptedMs => _reservation.Milliseconds;

    /// <summary>
    /// Moves the stream to <paramref name="totalMs"/> of audio received. False when the quota could not cover it
    /// all: <see cref="AcceptedMs"/> is then what fits, and the caller sends <see cref="CutOff"/>.
    /// </summary>
    public bool TryAdvanceTo(long totalMs)
    {
        var wanted = totalMs - _reservation.Milliseconds;
        return wanted <= 0 || _quota.ReserveUpTo(ref _reservation, wanted) == wanted;
    }

    /// <summary>The mid-stream refusal: an <c>error</c> message, then close 4029.</summary>
    public Rejection CutOff() =>
        QuotaRejection.For(Model, _quota.Refusal(_reservation));

    /// <summary>
    /// Charges the stream once it is over: <paramref name="processedMs"/> as the backend reports it, never more than
    /// the quota grants (audio a backend measures only at the end is reserved here), and gives back the rest.
    /// </summary>
    public async Task SettleAsync(long processedMs)
    {
        if (_settled)
        {
            return;
        }
        _settled = true;
        if (processedMs > _reservation.Milliseconds)
        {
            TryAdvanceTo(processedMs);
        }
        await _quota.CommitAsync(_reservation, Math.Min(processedMs, _reservation.Milliseconds), _requestId, _principal, CancellationToken.None);
    }
}
