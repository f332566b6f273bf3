namespace Tollgate;

/// <summary>
/// Every store keeps times to the millisecond, in UTC. Whatever is created is stamped at that precision before it is
/// stored, so what a call returns equals what a later read gives back.
/// </summary>
internal static class Timestamps
{
    /// <summary>Now, in UTC, to the millisecond.</summary>
    public static DateTimeOffset Now(TimeProvider time) => ToMillisecond(time.GetUtcNow());

    /// <summary><paramref name="at"/> in UTC with everything below the millisecond dropped.</summary>
    public static DateTimeOffset ToMillisecond(DateTimeOffset at)
    {
        var utc = at.UtcTicks;
        return new DateTimeOffset(utc - utc % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }
}
