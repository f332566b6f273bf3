using System.Globalization;

namespace Tollgate.Cli.Commands;

/// <summary>Durations as the server's settings write them: a whole number and a unit, <c>90s</c>, <c>30m</c>, <c>24h</c>, <c>7d</c> (or <c>0</c>).</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var span = text.AsSpan().Trim();
        if (span is "0")
        {
            return true;
        }
        if (span.Length < 2 || !long.TryParse(span[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > 100_000_000)
        {
            return false;
        }
        long? seconds = char.ToLowerInvariant(span[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => null,
        };
        if (seconds is not { } unit)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(count * unit);
        return true;
    }
}
