namespace Tollgate.Audio.Probes;

/// <summary>
/// Durations from counts a file declares. Headers can claim any 32- or 64-bit count, so the products are never taken
/// unchecked: a count that is negative, or a duration that does not fit, makes the file corrupt instead of wrapping
/// into a negative (or a wrong positive) number of milliseconds.
/// </summary>
internal static class ProbeMath
{
    /// <summary>The longest duration a probe reports: about 292 years, far past any real file and far from overflow in the ledger's sums.</summary>
    public const long MaxDurationMs = long.MaxValue / 1000;

    /// <summary><paramref name="units"/> of 1/<paramref name="perSecond"/> s in whole milliseconds (rounded down).</summary>
    public static long Milliseconds(long units, long perSecond)
    {
        if (units < 0 || perSecond <= 0)
        {
            throw new ProbeException();
        }
        // (q·p + r)·1000/p = q·1000 + r·1000/p, without the product units·1000 that overflows first.
        var whole = Math.DivRem(units, perSecond, out var rest);
        var ms = checked(whole * 1000 + (long)((Int128)rest * 1000 / perSecond));
        return ms <= MaxDurationMs ? ms : throw new ProbeException();
    }

    /// <summary>A duration a container gives as a floating-point number of milliseconds (Matroska).</summary>
    public static long Milliseconds(double ms) =>
        double.IsFinite(ms) && ms >= 0 && ms <= MaxDurationMs ? (long)ms : throw new ProbeException();

    /// <summary>A sum of declared counts (fragment durations) that must not wrap.</summary>
    public static long Add(long total, long more) =>
        more >= 0 ? checked(total + more) : throw new ProbeException();
}
