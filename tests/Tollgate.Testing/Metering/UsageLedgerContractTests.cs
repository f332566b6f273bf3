using Tollgate.Limits;

namespace Tollgate.Metering;

/// <summary>
/// What every <see cref="IUsageLedger"/> must do (SQLite now, PostgreSQL next): inherit and implement
/// <see cref="CreateLedger"/>. Organizations are fresh per test, so a shared ledger carries nothing across tests.
/// </summary>
public abstract class UsageLedgerContractTests
{
    protected static readonly MonthPeriod May = new(2026, 5);
    protected static readonly MonthPeriod June = new(2026, 6);

    private IUsageLedger? _ledger;
    private object? _ledgerLock;

    /// <summary>Made on first use, once even when the first uses are concurrent (several tests start with parallel calls).</summary>
    protected IUsageLedger Ledger => LazyInitializer.EnsureInitialized(ref _ledger, ref _ledgerLock, () => CreateLedger());

    protected abstract IUsageLedger CreateLedger();

    private static string NewOrg() => "org_" + Guid.NewGuid().ToString("N")[..12];

    private static UsageCharge Charge(string orgId, string model, long ms, MonthPeriod period, DateTimeOffset at, string? requestId = null) =>
        new(requestId ?? "req_" + Guid.NewGuid().ToString("N"), orgId, "usr_1", "key_1", model, ms, period, at);

    [Fact]
    public async Task ACharge_IsRecordedOncePerRequestId_ARepeatChangesNothing()
    {
        var org = NewOrg();
        var charge = Charge(org, "velma-2-stt-batch", 1_500, May, May.Start.AddDays(3));
        Assert.True(await Ledger.AppendAsync(charge));
        Assert.False(await Ledger.AppendAsync(charge));
        Assert.False(await Ledger.AppendAsync(charge with { Milliseconds = 99_000, Model = "velma-2-stt-streaming" }));

        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 1_500, 1)], await Ledger.MonthTotalsAsync(org, May));
        Assert.Equal([charge], await Ledger.ChargesAsync(org, May));
    }

    [Fact]
    public async Task KeyCount_CountsTheDistinctKeysCharged_PerModelOrAcrossModels_InThatOrganizationAndMonth()
    {
        var org = NewOrg();
        var at = May.Start.AddHours(2);
        Assert.Equal(0, await Ledger.KeyCountAsync(org, "velma-2-stt-batch", May));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 100, May, at) with { KeyId = "key_a" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 100, May, at) with { KeyId = "key_a" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 100, May, at) with { KeyId = "key_b" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-streaming", 100, May, at) with { KeyId = "key_c" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 100, June, June.Start) with { KeyId = "key_d" });
        await Ledger.AppendAsync(Charge(NewOrg(), "velma-2-stt-batch", 100, May, at) with { KeyId = "key_e" });

        Assert.Equal(2, await Ledger.KeyCountAsync(org, "velma-2-stt-batch", May));
        Assert.Equal(1, await Ledger.KeyCountAsync(org, "velma-2-stt-streaming", May));
        Assert.Equal(3, await Ledger.KeyCountAsync(org, null, May));
        Assert.Equal(1, await Ledger.KeyCountAsync(org, "velma-2-stt-batch", June));
    }

    [Fact]
    public async Task DailyTotals_SumEachModelPerUtcDay_FoldALateSettlementIntoTheLastDay_AndAddUpToTheMonth()
    {
        var org = NewOrg();
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 1_000, May, May.Start));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 250, May, May.Start.AddHours(23).AddMinutes(59).AddSeconds(59).AddMilliseconds(999)));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 500, May, May.Start.AddDays(14).AddHours(12)));
        // Admitted on May 31, settled after midnight: May's charge, counted on May 31.
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 70, May, June.Start.AddSeconds(3)));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 30, May, June.Start.AddMilliseconds(-1)));
        await Ledger.AppendAsync(Charge(org, "velma-2-emotion-batch", 9, May, May.Start.AddDays(1)));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 4_000, June, June.Start));
        await Ledger.AppendAsync(Charge(NewOrg(), "velma-2-stt-batch", 8_000, May, May.Start));

        Assert.Equal(
            [
                new DailyUsageTotal("velma-2-emotion-batch", new DateOnly(2026, 5, 2), 9),
                new DailyUsageTotal("velma-2-stt-batch", new DateOnly(2026, 5, 1), 1_250),
                new DailyUsageTotal("velma-2-stt-batch", new DateOnly(2026, 5, 15), 500),
                new DailyUsageTotal("velma-2-stt-batch", new DateOnly(2026, 5, 31), 100),
            ],
            await Ledger.DailyTotalsAsync(org, May));
        var month = await Ledger.MonthTotalsAsync(org, May);
        foreach (var total in month)
        {
            Assert.Equal(total.Milliseconds, (await Ledger.DailyTotalsAsync(org, May)).Where(d => d.Model == total.Model).Sum(d => d.Milliseconds));
        }
        Assert.Equal([new DailyUsageTotal("velma-2-stt-batch", new DateOnly(2026, 6, 1), 4_000)], await Ledger.DailyTotalsAsync(org, June));
        Assert.Empty(await Ledger.DailyTotalsAsync(org, new MonthPeriod(2026, 7)));
    }

    [Fact]
    public async Task ManyWritersOfOneRequestId_RecordItExactlyOnce()
    {
        var org = NewOrg();
        var charge = Charge(org, "velma-2-stt-batch", 2_000, May, May.Start);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Ledger.AppendAsync(charge))));
        Assert.Single(results, r => r);
        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 2_000, 1)], await Ledger.MonthTotalsAsync(org, May));
    }

    [Fact]
    public async Task ManyConcurrentCharges_AreEachRecorded_AndEachCallerLearnsItsOwnOutcome()
    {
        var org = NewOrg();
        var charges = Enumerable.Range(0, 64).Select(i => Charge(org, "velma-2-stt-batch", 10 + i, May, May.Start.AddSeconds(i))).ToArray();
        // Every fourth charge is written twice at once: exactly one of the two writers learns it was new.
        var writes = charges.Concat(charges.Where((_, i) => i % 4 == 0)).ToArray();
        var results = await Task.WhenAll(writes.Select(c => Task.Run(() => Ledger.AppendAsync(c))));

        Assert.Equal(charges.Length, results.Count(r => r));
        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", charges.Sum(c => c.Milliseconds), charges.Length)], await Ledger.MonthTotalsAsync(org, May));
    }

    [Fact]
    public async Task AChargeTheStoreRefuses_FailsItsOwnWriteOnly_TheConcurrentOnesAreRecorded()
    {
        var org = NewOrg();
        var good = Enumerable.Range(0, 16).Select(i => Charge(org, "velma-2-stt-batch", 100, May, May.Start.AddSeconds(i))).ToArray();
        // A negative duration is not a charge: the store refuses the row (a CHECK constraint in SQL).
        var bad = Charge(org, "velma-2-stt-batch", -1, May, May.Start);
        var writes = good.Take(8).Append(bad).Concat(good.Skip(8)).Select(c => Task.Run(() => Ledger.AppendAsync(c))).ToArray();

        await Assert.ThrowsAnyAsync<Exception>(() => writes[8]);
        Assert.All(await Task.WhenAll(writes.Where((_, i) => i != 8)), Assert.True);
        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 1_600, 16)], await Ledger.MonthTotalsAsync(org, May));
    }

    [Fact]
    public async Task MonthTotals_SumEachModel_OfThatOrganizationAndMonthOnly_InModelOrder()
    {
        var org = NewOrg();
        var other = NewOrg();
        var at = May.Start.AddHours(1);
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-streaming", 500, May, at));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 1_000, May, at));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 2_500, May, at.AddMinutes(1)));
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 7_000, June, June.Start));
        await Ledger.AppendAsync(Charge(other, "velma-2-stt-batch", 9_000, May, at));

        Assert.Equal(
            [new ModelUsageTotal("velma-2-stt-batch", 3_500, 2), new ModelUsageTotal("velma-2-stt-streaming", 500, 1)],
            await Ledger.MonthTotalsAsync(org, May));
        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 7_000, 1)], await Ledger.MonthTotalsAsync(org, June));
        Assert.Empty(await Ledger.MonthTotalsAsync(NewOrg(), May));
    }

    [Fact]
    public async Task ACharge_CountsInTheMonthItNames_EvenWrittenAfterThatMonthEnded()
    {
        var org = NewOrg();
        // Settled a second after midnight, for a call admitted in May: it stays May's.
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 4_000, May, June.Start.AddSeconds(1)));
        Assert.Equal(4_000, Assert.Single(await Ledger.MonthTotalsAsync(org, May)).Milliseconds);
        Assert.Empty(await Ledger.MonthTotalsAsync(org, June));
    }

    [Fact]
    public async Task Charges_AreTheOrganizationsRowsOfTheMonth_OldestFirst_AsWritten()
    {
        var org = NewOrg();
        var later = Charge(org, "velma-2-stt-batch", 10, May, May.Start.AddDays(2).AddMilliseconds(7));
        var earlier = Charge(org, "velma-2-stt-streaming", 20, May, May.Start.AddDays(1));
        await Ledger.AppendAsync(later);
        await Ledger.AppendAsync(earlier);
        await Ledger.AppendAsync(Charge(NewOrg(), "velma-2-stt-batch", 30, May, May.Start));

        Assert.Equal([earlier, later], await Ledger.ChargesAsync(org, May));
        Assert.Empty(await Ledger.ChargesAsync(org, June));
    }

    /// <summary>Reads every page of <paramref name="query"/>, each after the last row of the one before.</summary>
    protected async Task<List<List<UsageCharge>>> AllPagesAsync(UsageChargeQuery query)
    {
        var pages = new List<List<UsageCharge>>();
        while (true)
        {
            var page = (await Ledger.PageAsync(query)).ToList();
            if (page.Count == 0)
            {
                return pages;
            }
            Assert.True(page.Count <= query.Limit, $"{page.Count} rows on a page of {query.Limit}");
            pages.Add(page);
            query = query with { After = LedgerPosition.Of(page[^1]) };
        }
    }

    [Fact]
    public async Task Pages_AreTheOrganizationsRows_InTimeThenRequestIdOrder_NoneSkippedOrRepeated_EvenWithinOneMillisecond()
    {
        var org = NewOrg();
        var at = May.Start.AddDays(4).AddMilliseconds(250);
        // Seven rows in one millisecond, written in an order unrelated to their ids, around rows just before and after.
        var same = new[] { "req_e", "req_a", "req_g", "req_c", "req_b", "req_f", "req_d" }
            .Select((id, i) => Charge(org, "velma-2-stt-batch", 100 + i, May, at, id + org)).ToList();
        var before = Charge(org, "velma-2-stt-streaming", 7, May, at.AddMilliseconds(-1), "req_z" + org);
        var after = Charge(org, "velma-2-stt-batch", 9, May, at.AddMilliseconds(1), "req_0" + org);
        foreach (var charge in same.Take(3).Append(after).Concat(same.Skip(3)).Append(before))
        {
            Assert.True(await Ledger.AppendAsync(charge));
        }
        await Ledger.AppendAsync(Charge(NewOrg(), "velma-2-stt-batch", 1, May, at, "req_a" + org + "x"));

        List<UsageCharge> expected = [before, .. same.OrderBy(c => c.RequestId, StringComparer.Ordinal), after];
        foreach (var limit in new[] { 1, 2, 3, 4, 9, 100 })
        {
            var pages = await AllPagesAsync(new UsageChargeQuery(org, limit));
            Assert.Equal(expected, pages.SelectMany(p => p));
            Assert.All(pages.SkipLast(1), p => Assert.Equal(limit, p.Count));
        }
    }

    [Fact]
    public async Task APage_OfAMonth_HoldsTheRowsChargedToIt_SoItsSumIsTheMonthsTotal()
    {
        var org = NewOrg();
        var may = Charge(org, "velma-2-stt-batch", 1_000, May, May.Start.AddDays(9));
        // Admitted in May, settled in June: May's, as the month totals count it.
        var lateMay = Charge(org, "velma-2-stt-streaming", 2_500, May, June.Start.AddSeconds(2));
        var june = Charge(org, "velma-2-stt-batch", 4_000, June, June.Start.AddSeconds(1));
        foreach (var c in new[] { june, lateMay, may })
        {
            await Ledger.AppendAsync(c);
        }

        var rows = (await AllPagesAsync(new UsageChargeQuery(org, 1) { Period = May })).SelectMany(p => p).ToList();
        Assert.Equal([may, lateMay], rows);
        Assert.Equal((await Ledger.MonthTotalsAsync(org, May)).Sum(t => t.Milliseconds), rows.Sum(r => r.Milliseconds));
        Assert.Equal([june], await Ledger.PageAsync(new UsageChargeQuery(org, 10) { Period = June }));
        Assert.Empty(await Ledger.PageAsync(new UsageChargeQuery(org, 10) { Period = new MonthPeriod(2026, 7) }));
    }

    [Fact]
    public async Task Since_KeepsTheRowsAtOrAfterThatTime_AndCombinesWithAMonthAndAPosition()
    {
        var org = NewOrg();
        var t = May.Start.AddDays(20);
        var rows = Enumerable.Range(0, 5).Select(i => Charge(org, "velma-2-stt-batch", 10 * (i + 1), May, t.AddSeconds(i), $"req_{i}{org}")).ToList();
        var june = Charge(org, "velma-2-stt-batch", 99, June, June.Start);
        foreach (var c in rows.Append(june))
        {
            await Ledger.AppendAsync(c);
        }

        Assert.Equal([rows[2], rows[3], rows[4], june], await Ledger.PageAsync(new UsageChargeQuery(org, 10) { Since = t.AddSeconds(2) }));
        // Between two stored milliseconds: from the next one on.
        Assert.Equal([rows[3], rows[4], june], await Ledger.PageAsync(new UsageChargeQuery(org, 10) { Since = t.AddSeconds(2).AddTicks(1) }));
        Assert.Equal([rows[2], rows[3], rows[4]], await Ledger.PageAsync(new UsageChargeQuery(org, 10) { Since = t.AddSeconds(2), Period = May }));
        Assert.Equal([rows[4]], await Ledger.PageAsync(new UsageChargeQuery(org, 10) { Since = t.AddSeconds(2), Period = May, After = LedgerPosition.Of(rows[3]) }));
        Assert.Empty(await Ledger.PageAsync(new UsageChargeQuery(org, 10) { Since = June.End }));
    }

    [Fact]
    public async Task APage_AfterThePosition_OfARowNeverWritten_StartsAtTheNextRowThatWas()
    {
        var org = NewOrg();
        var at = May.Start.AddHours(3);
        var a = Charge(org, "velma-2-stt-batch", 1, May, at, "req_a" + org);
        var c = Charge(org, "velma-2-stt-batch", 3, May, at, "req_c" + org);
        await Ledger.AppendAsync(c);
        await Ledger.AppendAsync(a);

        Assert.Equal([c], await Ledger.PageAsync(new UsageChargeQuery(org, 10) { After = new LedgerPosition(at, "req_b" + org) }));
        Assert.Equal([a, c], await Ledger.PageAsync(new UsageChargeQuery(org, 10) { After = new LedgerPosition(at.AddMilliseconds(-1), "req_z") }));
        Assert.Empty(await Ledger.PageAsync(new UsageChargeQuery(org, 10) { After = LedgerPosition.Of(c) }));
    }

    [Fact]
    public async Task MonthTotalsBy_CountsOnlyTheGivenUserOrKey_PerModel_InThatOrganizationAndMonth()
    {
        var org = NewOrg();
        var at = May.Start.AddHours(2);
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 1_000, May, at) with { UserId = "usr_a", KeyId = "key_a1" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 250, May, at) with { UserId = "usr_a", KeyId = "key_a2" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-streaming", 40, May, at) with { UserId = "usr_a", KeyId = "key_a1" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 7, May, at) with { UserId = "usr_b", KeyId = "key_b" });
        await Ledger.AppendAsync(Charge(org, "velma-2-stt-batch", 5_000, June, June.Start) with { UserId = "usr_a", KeyId = "key_a1" });
        await Ledger.AppendAsync(Charge(NewOrg(), "velma-2-stt-batch", 9_000, May, at) with { UserId = "usr_a", KeyId = "key_a1" });

        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 1_250, 2), new ModelUsageTotal("velma-2-stt-streaming", 40, 1)],
            await Ledger.MonthTotalsByAsync(org, May, "usr_a", null));
        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 1_000, 1), new ModelUsageTotal("velma-2-stt-streaming", 40, 1)],
            await Ledger.MonthTotalsByAsync(org, May, null, "key_a1"));
        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 7, 1)], await Ledger.MonthTotalsByAsync(org, May, "usr_b", "key_b"));
        Assert.Empty(await Ledger.MonthTotalsByAsync(org, May, "usr_b", "key_a1"));
        Assert.Equal(await Ledger.MonthTotalsAsync(org, May), await Ledger.MonthTotalsByAsync(org, May, null, null));
        Assert.Equal([new ModelUsageTotal("velma-2-stt-batch", 5_000, 1)], await Ledger.MonthTotalsByAsync(org, June, "usr_a", "key_a1"));
    }
}
