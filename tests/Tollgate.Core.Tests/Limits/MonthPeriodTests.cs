namespace Tollgate.Limits;

public sealed class MonthPeriodTests
{
    private static readonly MonthPeriod May = new(2026, 5);

    [Theory]
    [InlineData("2026-05", true)]
    [InlineData("2026-12", true)]
    [InlineData("2026-13", false)]
    [InlineData("2026-5", false)]
    [InlineData("26-05-01", false)]
    [InlineData("", false)]
    public void MonthPeriod_Parses_YYYY_MM(string text, bool ok)
    {
        Assert.Equal(ok, MonthPeriod.TryParse(text, out var period));
        if (ok)
        {
            Assert.Equal(text, period.ToString());
            Assert.Equal(period.Start.AddMonths(1), period.End);
        }
    }

    [Fact]
    public void MonthPeriod_IsTheUtcCalendarMonth()
    {
        var lastMillisecondOfMay = new DateTimeOffset(2026, 5, 31, 23, 59, 59, 999, TimeSpan.Zero);
        Assert.Equal(May, MonthPeriod.Of(lastMillisecondOfMay));
        Assert.Equal(new MonthPeriod(2026, 6), MonthPeriod.Of(lastMillisecondOfMay.AddMilliseconds(1)));
        // 23:30 on 31 May in New York is already June in UTC.
        Assert.Equal(new MonthPeriod(2026, 6), MonthPeriod.Of(new DateTimeOffset(2026, 5, 31, 23, 30, 0, TimeSpan.FromHours(-4))));
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), May.End);
    }
}
