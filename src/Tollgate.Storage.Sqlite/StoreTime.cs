using System.Globalization;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// How every table keeps a time: ISO 8601 text in UTC to the millisecond (<c>2026-11-23T12:00:00.000Z</c>), which
/// sorts as it reads, so <c>ORDER BY</c> and <c>&lt;</c> on the column order by time.
/// </summary>
internal static class StoreTime
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string ToText(DateTimeOffset at) => at.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static DateTimeOffset? ParseNullable(string? text) => text is null ? null : Parse(text);
}
