namespace Tollgate.RateLimiting;

/// <summary>Clock-aligned window arithmetic in Unix ticks: window <c>i</c> of length <c>W</c> is <c>[i·W, (i+1)·W)</c>.</summary>
internal static class FixedWindow
{
    private static readonly long UnixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    public static long UnixTicks(DateTimeOffset time) => time.UtcTicks - UnixEpochTicks;

    /// <summary>⌊t/W⌋, also for times before 1970.</summary>
    public static long Index(long unixTicks, long windowTicks)
    {
        var index = unixTicks / windowTicks;
        return unixTicks < 0 && index * windowTicks != unixTicks ? index - 1 : index;
    }

    /// <summary>Window ends are whole seconds, since windows are whole seconds long.</summary>
    public static long ToUnixSeconds(long unixTicks) => Math.DivRem(unixTicks, TimeSpan.TicksPerSecond).Quotient;

    /// <summary>Whole seconds from <paramref name="now"/> until <paramref name="end"/>, rounded up, at least 1.</summary>
    public static int SecondsUntil(long now, long end)
    {
        var ticks = end - now;
        var seconds = ticks <= 0 ? 1 : (ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        return (int)Math.Clamp(seconds, 1, int.MaxValue);
    }
}
