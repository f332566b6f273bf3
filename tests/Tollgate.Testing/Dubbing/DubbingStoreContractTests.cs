using Tollgate.Limits;

namespace Tollgate.Dubbing;

/// <summary>
/// What every <see cref="IDubbingStore"/> must do (SQLite now, PostgreSQL next): inherit and implement
/// <see cref="CreateStore"/>. Dubs, voices, users and organizations are fresh per test, so a shared store carries
/// nothing across tests — except the stock catalogue, which is the same for everyone.
/// </summary>
public abstract class DubbingStoreContractTests
{
    protected static readonly MonthPeriod May = new(2026, 5);
    protected static readonly DateTimeOffset At = new(2026, 5, 20, 9, 30, 15, 123, TimeSpan.Zero);

    private IDubbingStore? _store;
    private object? _storeLock;

    /// <summary>Made on first use, once even when the first uses are concurrent (several tests start with parallel calls).</summary>
    protected IDubbingStore Store => LazyInitializer.EnsureInitialized(ref _store, ref _storeLock, () => CreateStore());

    protected abstract IDubbingStore CreateStore();

    private static string Fresh(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..16];

    private static Dub NewDub(string? orgId = null, string? userId = null, DateTimeOffset? at = null) => new()
    {
        Id = Fresh("dub"),
        OrgId = orgId ?? Fresh("org"),
        UserId = userId ?? Fresh("usr"),
        Name = "Quarterly call — ÆØÅ",
        SourceLanguage = "en",
        TargetLanguage = "pt-BR",
        VoiceId = null,
        Status = DubStatus.New,
        CreatedAt = at ?? At,
        UpdatedAt = at ?? At,
    };

    private static Dub Move(Dub dub, DubStatus to, TimeSpan after) => dub with { Status = to, UpdatedAt = dub.UpdatedAt + after };

    private async Task<Dub> PreprocessedAsync(int requiredCredits, string? orgId = null)
    {
        var dub = NewDub(orgId);
        await Store.AddDubAsync(dub);
        var preprocessed = Move(dub, DubStatus.Preprocessed, TimeSpan.FromSeconds(1)) with
        {
            InputDurationMs = requiredCredits * 1000L - 400,
            RequiredCredits = requiredCredits,
            InputFormat = "wav/pcm_s16le",
        };
        Assert.True(await Store.UpdateDubAsync(preprocessed, DubStatus.New));
        return preprocessed;
    }

    private static CreditEntry ChargeOf(Dub dub, int credits, DateTimeOffset? at = null) =>
        new(dub.Id + ":charge", dub.OrgId, dub.Id, credits, MonthPeriod.Of(at ?? dub.UpdatedAt), at ?? dub.UpdatedAt);

    [Fact]
    public async Task PageDubsByOrg_ListsAnOrganizationsDubsNewestFirst_APageAtATime()
    {
        var org = Fresh("org");
        var dubs = new List<Dub>();
        for (var i = 0; i < 5; i++)
        {
            var dub = NewDub(org, at: At.AddMinutes(i == 4 ? 3 : i));
            await Store.AddDubAsync(dub);
            dubs.Add(dub);
        }
        await Store.AddDubAsync(NewDub());
        var expected = dubs.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id, StringComparer.Ordinal).Select(d => d.Id).ToList();

        var first = await Store.PageDubsByOrgAsync(org, 3, null);
        Assert.Equal(expected[..3], first.Select(d => d.Id));
        var rest = await Store.PageDubsByOrgAsync(org, 3, first[^1].Id);
        Assert.Equal(expected[3..], rest.Select(d => d.Id));
        Assert.Equal(dubs.Single(d => d.Id == rest[^1].Id), rest[^1]);
        Assert.Empty(await Store.PageDubsByOrgAsync(org, 3, rest[^1].Id));
        Assert.Empty(await Store.PageDubsByOrgAsync(org, 3, "dub_none"));
    }

    [Fact]
    public async Task ADub_IsReadBackWhole_ByItsOwner_AndByWorkers_ButNotByAnotherUser()
    {
        var dub = NewDub() with { VoiceId = "voice_x", ErrorCode = null };
        await Store.AddDubAsync(dub);
        Assert.Equal(dub, await Store.GetDubAsync(dub.Id, dub.UserId));
        Assert.Equal(dub, await Store.GetDubAsync(dub.Id));
        Assert.Null(await Store.GetDubAsync(dub.Id, Fresh("usr")));
        Assert.Null(await Store.GetDubAsync(Fresh("dub")));
    }

    [Fact]
    public async Task AStatusChange_IsCompareAndSet_OnTheStatusTheCallerSaw()
    {
        var dub = NewDub();
        await Store.AddDubAsync(dub);
        var preprocessing = Move(dub, DubStatus.Preprocessing, TimeSpan.FromSeconds(1));
        Assert.True(await Store.UpdateDubAsync(preprocessing, DubStatus.New));

        // A second worker that also saw 'new' loses, and writes nothing.
        Assert.False(await Store.UpdateDubAsync(Move(dub, DubStatus.Error, TimeSpan.FromSeconds(2)) with { ErrorCode = "x" }, DubStatus.New));
        Assert.Equal(preprocessing, await Store.GetDubAsync(dub.Id));

        var failed = Move(preprocessing, DubStatus.Error, TimeSpan.FromSeconds(1)) with { ErrorCode = "unprocessable_audio", ErrorMessage = "no samples" };
        Assert.True(await Store.UpdateDubAsync(failed, DubStatus.Preprocessing));
        Assert.Equal(failed, await Store.GetDubAsync(dub.Id, dub.UserId));
    }

    [Fact]
    public async Task ManyWorkersMovingOneDub_OnlyOneWins()
    {
        var dub = NewDub();
        await Store.AddDubAsync(dub);
        var wins = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.UpdateDubAsync(Move(dub, DubStatus.Preprocessing, TimeSpan.FromMilliseconds(i + 1)), DubStatus.New))));
        Assert.Single(wins, w => w);
    }

    [Fact]
    public async Task Charging_MovesTheDubAndRecordsTheCredits_Together()
    {
        var dub = await PreprocessedAsync(requiredCredits: 7);
        var queued = Move(dub, DubStatus.Queued, TimeSpan.FromSeconds(1)) with { ApiCreditsUsed = 7 };
        var charge = ChargeOf(queued, 7);

        Assert.Equal(new ChargeOutcome(ChargeStatus.Charged, 3), await Store.ChargeAsync(queued, DubStatus.Preprocessed, charge, allowance: 10));
        Assert.Equal(queued, await Store.GetDubAsync(dub.Id));
        Assert.Equal(7, await Store.CreditsUsedAsync(dub.OrgId, May));
        Assert.Equal([charge], await Store.CreditEntriesAsync(dub.Id));
    }

    [Fact]
    public async Task ACharge_ThatCannotBeAfforded_OrOnAStaleStatus_WritesNothing()
    {
        var org = Fresh("org");
        var dub = await PreprocessedAsync(requiredCredits: 7, org);
        var queued = Move(dub, DubStatus.Queued, TimeSpan.FromSeconds(1)) with { ApiCreditsUsed = 7 };

        Assert.Equal(new ChargeOutcome(ChargeStatus.InsufficientCredits, 6), await Store.ChargeAsync(queued, DubStatus.Preprocessed, ChargeOf(queued, 7), allowance: 6));
        Assert.Equal(new ChargeOutcome(ChargeStatus.Conflict, 10), await Store.ChargeAsync(queued, DubStatus.New, ChargeOf(queued, 7), allowance: 10));
        Assert.Equal(dub, await Store.GetDubAsync(dub.Id));
        Assert.Equal(0, await Store.CreditsUsedAsync(org, May));
        Assert.Empty(await Store.CreditEntriesAsync(dub.Id));
    }

    [Fact]
    public async Task AChargeEntry_CountsOnce_WhateverRetriesItsWriter()
    {
        var dub = await PreprocessedAsync(requiredCredits: 4);
        var queued = Move(dub, DubStatus.Queued, TimeSpan.FromSeconds(1)) with { ApiCreditsUsed = 4 };
        var charge = ChargeOf(queued, 4);
        await Store.ChargeAsync(queued, DubStatus.Preprocessed, charge, allowance: 10);

        var starting = Move(queued, DubStatus.Starting, TimeSpan.FromSeconds(1));
        Assert.Equal(new ChargeOutcome(ChargeStatus.Charged, 6), await Store.ChargeAsync(starting, DubStatus.Queued, charge, allowance: 10));
        Assert.Equal(4, await Store.CreditsUsedAsync(dub.OrgId, May));
        Assert.Single(await Store.CreditEntriesAsync(dub.Id));
    }

    [Fact]
    public async Task ConcurrentCharges_NeverTogetherSpendMoreThanTheAllowance()
    {
        var org = Fresh("org");
        var dubs = new List<Dub>();
        for (var i = 0; i < 6; i++)
        {
            dubs.Add(await PreprocessedAsync(requiredCredits: 4, org));
        }
        var outcomes = await Task.WhenAll(dubs.Select(d => Task.Run(() =>
        {
            var queued = Move(d, DubStatus.Queued, TimeSpan.FromSeconds(1)) with { ApiCreditsUsed = 4 };
            return Store.ChargeAsync(queued, DubStatus.Preprocessed, ChargeOf(queued, 4), allowance: 10);
        })));
        Assert.Equal(2, outcomes.Count(o => o.Status == ChargeStatus.Charged));
        Assert.Equal(4, outcomes.Count(o => o.Status == ChargeStatus.InsufficientCredits));
        Assert.Equal(8, await Store.CreditsUsedAsync(org, May));
    }

    [Fact]
    public async Task AFailureAfterTheCharge_RefundsItOnce_InTheMonthItWasCharged()
    {
        var dub = await PreprocessedAsync(requiredCredits: 5);
        var queued = Move(dub, DubStatus.Queued, TimeSpan.FromSeconds(1)) with { ApiCreditsUsed = 5 };
        await Store.ChargeAsync(queued, DubStatus.Preprocessed, ChargeOf(queued, 5), allowance: 10);
        var june = new DateTimeOffset(2026, 6, 1, 0, 0, 3, TimeSpan.Zero);
        var failed = queued with { Status = DubStatus.Error, ApiCreditsUsed = 0, ErrorCode = "render_failed", UpdatedAt = june };

        Assert.False(await Store.UpdateDubWithRefundAsync(failed, DubStatus.Processing, dub.Id + ":refund", june));
        Assert.Equal(5, await Store.CreditsUsedAsync(dub.OrgId, May));

        Assert.True(await Store.UpdateDubWithRefundAsync(failed, DubStatus.Queued, dub.Id + ":refund", june));
        Assert.False(await Store.UpdateDubWithRefundAsync(failed, DubStatus.Queued, dub.Id + ":refund", june));
        Assert.Equal(failed, await Store.GetDubAsync(dub.Id));
        Assert.Equal(0, await Store.CreditsUsedAsync(dub.OrgId, May));
        Assert.Equal(0, await Store.CreditsUsedAsync(dub.OrgId, new MonthPeriod(2026, 6)));
        var entries = await Store.CreditEntriesAsync(dub.Id);
        Assert.Equal([5, -5], entries.Select(e => e.Credits));
        Assert.Equal(May, entries[1].Period);
    }

    [Fact]
    public async Task ARefundOfADubNeverCharged_OnlyMovesIt()
    {
        var dub = await PreprocessedAsync(requiredCredits: 3);
        var failed = Move(dub, DubStatus.Error, TimeSpan.FromSeconds(1)) with { ErrorCode = "input_missing" };
        Assert.True(await Store.UpdateDubWithRefundAsync(failed, DubStatus.Preprocessed, dub.Id + ":refund", failed.UpdatedAt));
        Assert.Empty(await Store.CreditEntriesAsync(dub.Id));
        Assert.Equal(DubStatus.Error, (await Store.GetDubAsync(dub.Id))!.Status);
    }

    [Fact]
    public async Task PendingDubs_AreThoseAWorkerMustMoveOn_OldestChangeFirst()
    {
        var user = Fresh("usr");
        var byStatus = new Dictionary<DubStatus, Dub>();
        var offset = 0;
        foreach (var status in Enum.GetValues<DubStatus>().Reverse())
        {
            var dub = NewDub(userId: user, at: At.AddMinutes(offset++)) with { Status = status };
            await Store.AddDubAsync(dub);
            byStatus[status] = dub;
        }
        var pending = (await Store.PendingDubsAsync()).Where(d => d.UserId == user).ToList();
        var expected = byStatus.Values.Where(d => DubLifecycle.IsWorkPending(d.Status)).OrderBy(d => d.UpdatedAt).Select(d => d.Id);
        Assert.Equal(expected, pending.Select(d => d.Id));
        Assert.Equal(
            new[] { DubStatus.Finalizing, DubStatus.Processing, DubStatus.Starting, DubStatus.Queued, DubStatus.Preprocessing },
            pending.Select(d => d.Status));
    }

    private static Voice Stock(string id, string name) => new()
    {
        Id = id,
        Name = name,
        Language = "en",
        Genre = "narration",
        Style = "calm",
        Description = "A stock voice",
        CreatedAt = At,
    };

    private static Voice Custom(string userId, string orgId) => new()
    {
        Id = Fresh("voice"),
        Name = "My voice",
        Language = "fr",
        OwnerUserId = userId,
        OrgId = orgId,
        Status = VoiceStatus.New,
        CreatedAt = At,
    };

    [Fact]
    public async Task StockVoices_AreSeededAndRefreshed_AndOnlyOwnerlessVoicesMayBe()
    {
        var id = Fresh("stock");
        await Store.UpsertStockVoicesAsync([Stock(id, "Ava")]);
        await Store.UpsertStockVoicesAsync([Stock(id, "Ava (new)")]);
        var anyone = Fresh("usr");
        var voice = await Store.GetVoiceAsync(id, anyone);
        Assert.Equal("Ava (new)", voice!.Name);
        Assert.True(voice.IsStock);
        Assert.Equal(VoiceStatus.Ready, voice.Status);
        Assert.Contains(await Store.ListVoicesAsync(anyone), v => v.Id == id);

        await Assert.ThrowsAsync<ArgumentException>(() => Store.UpsertStockVoicesAsync([Custom(anyone, Fresh("org"))]));
    }

    [Fact]
    public async Task ACustomVoice_IsSeenOnlyByItsOwner_AndListedWithTheStockOnes_InIdOrder()
    {
        var owner = Fresh("usr");
        var stranger = Fresh("usr");
        var stock = Fresh("stock");
        await Store.UpsertStockVoicesAsync([Stock(stock, "Ben")]);
        var mine = Custom(owner, Fresh("org"));
        await Store.AddVoiceAsync(mine);

        Assert.Equal(mine, await Store.GetVoiceAsync(mine.Id, owner));
        Assert.Null(await Store.GetVoiceAsync(mine.Id, stranger));
        var listed = await Store.ListVoicesAsync(owner);
        Assert.Contains(listed, v => v.Id == mine.Id);
        Assert.Contains(listed, v => v.Id == stock);
        Assert.Equal(listed.Select(v => v.Id).Order(StringComparer.Ordinal), listed.Select(v => v.Id));
        Assert.DoesNotContain(await Store.ListVoicesAsync(stranger), v => v.Id == mine.Id);
    }

    [Fact]
    public async Task Training_IsCompareAndSet_AndPendingVoicesAreTheCustomOnesInTraining()
    {
        var owner = Fresh("usr");
        var voice = Custom(owner, Fresh("org"));
        await Store.AddVoiceAsync(voice);
        var training = voice with { Status = VoiceStatus.Training, SampleFile = voice.Id + "_1.sample" };

        Assert.True(await Store.UpdateVoiceAsync(training, VoiceStatus.New));
        Assert.False(await Store.UpdateVoiceAsync(training with { Status = VoiceStatus.Error }, VoiceStatus.New));
        Assert.Contains(await Store.PendingVoicesAsync(), v => v.Id == voice.Id);

        var ready = training with { Status = VoiceStatus.Ready, SampleDurationMs = 4_000, SampleLoudnessDb = -18.25 };
        Assert.True(await Store.UpdateVoiceAsync(ready, VoiceStatus.Training));
        Assert.Equal(ready, await Store.GetVoiceAsync(voice.Id, owner));
        Assert.DoesNotContain(await Store.PendingVoicesAsync(), v => v.Id == voice.Id);

        // Stock voices are not trained.
        var stock = Fresh("stock");
        await Store.UpsertStockVoicesAsync([Stock(stock, "Cleo")]);
        Assert.False(await Store.UpdateVoiceAsync(Stock(stock, "Cleo") with { Status = VoiceStatus.Training }, VoiceStatus.Ready));
    }
}
