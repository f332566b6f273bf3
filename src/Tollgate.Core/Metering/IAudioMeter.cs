namespace Tollgate.Metering;

/// <summary>
/// What a backend sees of metering while it serves a stream: it reports how much audio it has measured so far and
/// learns whether that still fits. It never reserves, commits or releases anything itself (<see cref="MeteredCall"/> does).
/// </summary>
internal interface IAudioMeter
{
    /// <summary>Milliseconds of audio accepted so far.</summary>
    long AcceptedMs { get; }

    /// <summary>
    /// Moves the stream to <paramref name="totalMs"/> of audio measured. False when the month's audio ran out before
    /// that point: <see cref="AcceptedMs"/> is then what fit, and the backend stops (the caller cuts the stream off).
    /// </summary>
    ValueTask<bool> AdvanceToAsync(long totalMs, CancellationToken cancellationToken);
}
