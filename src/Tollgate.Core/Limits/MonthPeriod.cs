using System.Globalization;

namespace Tollgate.Limits;

/// <summary>A calendar month in UTC: the quota period (DESIGN 3.3).</summary>
public readonly record struct MonthPeriod(int Year, int Month) : IComparable<MonthPeriod>
{
    /// <summary>A dense index (months since year 0), for keys and comparisons.</summary>
    public int Index => Year * 12 + Month - 1;

    public DateTimeOffset Start => new(Year, Month, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>When this period ends and the next begins: the quota's reset time.</summary>
    public DateTimeOffset End => Start.AddMonths(1);

    public static MonthPeriod Of(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new MonthPeriod(utc.Year, utc.Month);
    }

    public static MonthPeriod Current(TimeProvider time) => Of(time.GetUtcNow());

    /// <summary>Parses <c>YYYY-MM</c>.</summary>
    public static bool TryParse(string? text, out MonthPeriod period)
    {
        if (text is { Length: 7 } && text[4] == '-'
            && int.TryParse(text.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            && int.TryParse(text.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            && year is >= 2000 and <= 9998 && month is >= 1 and <= 12)
        {
            period = new MonthPeriod(year, month);
            return true;
        }
        period = default;
        return false;
    }

    public int CompareTo(MonthPeriod other) => Index.CompareTo(other.Index);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}");
}
