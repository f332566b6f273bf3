using System.Globalization;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Models;

/// <summary>
/// The <c>Tollgate:Uploads</c> section: how long a batch upload may take to arrive. An admitted upload holds its
/// organization's concurrency slot from the moment its headers arrive, so an upload that stalls must not hold it for
/// as long as the transport's minimum data rate would allow. Its body must be complete within
/// <see cref="DeadlineFloor"/> plus its declared size (<c>Content-Length</c>; without one, the endpoint's limit) at
/// <see cref="MinimumBytesPerSecond"/>; otherwise it is answered 408 <c>upload_timeout</c> and its slot freed at once.
/// The defaults let a 100 MB file through a 64 KB/s (512 kbit/s) link: 30 s + 1,600 s.
/// </summary>
internal sealed record UploadOptions
{
    public const string SectionPath = "Tollgate:Uploads";

    /// <summary>The time every upload has, whatever its size (durations as in the rate rules: <c>30s</c>, <c>2m</c>).</summary>
    public string DeadlineFloor { get; init; } = "30s";

    /// <summary>The slowest link the deadline allows for: bytes per second added per declared byte.</summary>
    public long MinimumBytesPerSecond { get; init; } = 64 * 1024;

    /// <summary>The parsed <see cref="DeadlineFloor"/> (valid once <see cref="Validate"/> found nothing).</summary>
    public TimeSpan FloorValue => RateLimitValidator.TryParseWindowText(DeadlineFloor, out var floor) ? floor : TimeSpan.FromSeconds(30);

    /// <summary>How long an upload of <paramref name="declaredBytes"/> may take to arrive.</summary>
    public TimeSpan DeadlineFor(long declaredBytes) =>
        FloorValue + TimeSpan.FromSeconds((double)Math.Max(0, declaredBytes) / Math.Max(1, MinimumBytesPerSecond));

    /// <summary>The deadline in words, for the 408's detail.</summary>
    public string Describe(TimeSpan deadline) => string.Create(CultureInfo.InvariantCulture,
        $"{deadline.TotalSeconds:0.#} s ({FloorValue.TotalSeconds:0.#} s plus one second per {MinimumBytesPerSecond / 1024.0:0.#} KB declared)");

    public IEnumerable<string> Validate()
    {
        if (!RateLimitValidator.TryParseWindowText(DeadlineFloor, out var floor))
        {
            yield return $"{SectionPath}:DeadlineFloor must be a duration such as 30s, 90s or 2m (was '{DeadlineFloor}').";
        }
        else if (floor < TimeSpan.FromSeconds(1) || floor > TimeSpan.FromHours(1))
        {
            yield return $"{SectionPath}:DeadlineFloor must be between 1s and 1h (was '{DeadlineFloor}').";
        }
        if (MinimumBytesPerSecond is < 1024 or > 1024L * 1024 * 1024)
        {
            yield return $"{SectionPath}:MinimumBytesPerSecond must be between 1024 (1 KB/s) and 1073741824 (1 GB/s) (was {MinimumBytesPerSecond}).";
        }
    }
}
