using Tollgate.Limits;

namespace Tollgate.Limits;

public sealed class QuotaMeterTests
{
    private static readonly PoolKey Pool = new("org_a", "velma-2-stt-batch");
    private static readonly MonthPeriod May = new(2026, 5);

    [Fact]
    public void Reserve_IsExactOrNothing_AndCommitKeepsOnlyWhatWasCharged()
    {
        var meter = new InProcessQuotaMeter((_, _) => 0);
        Assert.True(meter.TryReserve(Pool, May, 10_000, 6_000, out var first));
        Assert.False(meter.TryReserve(Pool, May, 10_000, 4_001, out var refused));
        Assert.Equal(0, refused.Milliseconds);
        Assert.Equal(4_000, meter.Remaining(Pool, May, 10_000));

        meter.Commit(first, 5_000);
        Assert.Equal(5_000, meter.Remaining(Pool, May, 10_000));
        Assert.Equal(new PoolUsage(5_000, 0), meter.Usage(Pool, May));
    }

    [Fact]
    public void Release_ReturnsEverything()
    {
        var meter = new InProcessQuotaMeter((_, _) => 0);
        Assert.True(meter.TryReserve(Pool, May, 1_000, 1_000, out var reservation));
        Assert.Equal(0, meter.Remaining(Pool, May, 1_000));
        meter.Release(reservation);
        Assert.Equal(1_000, meter.Remaining(Pool, May, 1_000));
    }

    [Fact]
    public void ReserveUpTo_GrantsWhatRemains_ToTheMillisecond()
    {
        var meter = new InProcessQuotaMeter((_, _) => 0);
        var reservation = default(QuotaReservation);
        Assert.Equal(700, meter.ReserveUpTo(Pool, May, 1_234, 700, ref reservation));
        Assert.Equal(534, meter.ReserveUpTo(Pool, May, 1_234, 700, ref reservation));
        Assert.Equal(0, meter.ReserveUpTo(Pool, May, 1_234, 700, ref reservation));
        Assert.Equal(1_234, reservation.Milliseconds);
        meter.Commit(reservation, 1_234);
        Assert.Equal(new PoolUsage(1_234, 0), meter.Usage(Pool, May));
    }

    [Fact]
    public void SeedsFromTheLedgerOncePerPoolAndMonth_AndANewMonthStartsFresh()
    {
        var loads = 0;
        var meter = new InProcessQuotaMeter((pool, period) =>
        {
            Interlocked.Increment(ref loads);
            return period == May ? 9_000 : 0;
        });
        Assert.Equal(1_000, meter.Remaining(Pool, May, 10_000));
        Assert.Equal(1_000, meter.Remaining(Pool, May, 10_000));
        Assert.Equal(10_000, meter.Remaining(Pool, new MonthPeriod(2026, 6), 10_000));
        Assert.Equal(2, loads);
    }

    [Fact]
    public void ALowerLimitOnAnotherKey_SeesThePooledUsage()
    {
        var meter = new InProcessQuotaMeter((_, _) => 0);
        Assert.True(meter.TryReserve(Pool, May, 10_000, 3_000, out var r));
        meter.Commit(r, 3_000);
        Assert.Equal(0, meter.Remaining(Pool, May, 2_000));
        Assert.False(meter.TryReserve(Pool, May, 2_000, 1, out _));
    }

    [Fact]
    public async Task ParallelReservations_NeverTogetherExceedTheLimit()
    {
        var meter = new InProcessQuotaMeter((_, _) => 0);
        const long limit = 1_000_003;
        long granted = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                var ms = 1 + (i * 7 + worker) % 97;
                if (meter.TryReserve(Pool, May, limit, ms, out var r))
                {
                    meter.Commit(r, ms);
                    Interlocked.Add(ref granted, ms);
                }
            }
        })));
        Assert.True(granted <= limit, $"granted {granted} > {limit}");
        Assert.Equal(granted, meter.Usage(Pool, May).CommittedMs);
        Assert.True(limit - granted < 97, "the meter should fill up to within one request of the limit");
    }

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
