using System.Collections.Frozen;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Sqlite.Metering;

namespace Tollgate.Metering;

public sealed class AudioQuotaTests : IDisposable
{
    private const string Model = "velma-2-stt-batch";
    private readonly string _dbPath = Path.Combine(Path.GetTempPath(), $"tollgate-ledger-{Guid.NewGuid():N}.db");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 31, 23, 0, 0, TimeSpan.Zero));
    private readonly SqliteUsageLedger _ledger;
    private readonly Principal _alice = PrincipalOf("org_a", "usr_alice", "key_1", Model, hours: 1.0);

    public AudioQuotaTests()
    {
        _ledger = new SqliteUsageLedger(new SqliteDatabase($"Data Source={_dbPath}"));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_dbPath) + "*"))
        {
            File.Delete(file);
        }
    }

    private AudioQuota NewQuota(QuotaOptions? options = null) =>
        new(new InProcessQuotaMeter(_ledger.CommittedTotal), _ledger, _time, options ?? new QuotaOptions());

    private static Principal PrincipalOf(string org, string user, string key, string model, double hours) =>
        new ApiKeyRecord(key, org, user, null, "tgk_xxxxxxxx", default,
            new Dictionary<string, ModelLimits> { [model] = new(5, hours) }.ToFrozenDictionary(), DateTimeOffset.UnixEpoch, null, null).Principal;

    private ModelLimits Limits(Principal p) => p.Key.Models[Model];

    [Fact]
    public async Task Commit_WritesOneLedgerRow_AndARepeatIsIgnored()
    {
        var quota = NewQuota();
        var r = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref r, 90_000, out _));
        await quota.CommitAsync(r, 90_000, "req-1", _alice);

        var again = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref again, 90_000, out _));
        await quota.CommitAsync(again, 90_000, "req-1", _alice);

        var rows = await _ledger.ChargesAsync("org_a", new MonthPeriod(2026, 5));
        var row = Assert.Single(rows);
        Assert.Equal(("req-1", "usr_alice", "key_1", Model, 90_000L), (row.RequestId, row.UserId, row.KeyId, row.Model, row.Milliseconds));
        Assert.True(quota.HasTimeLeft(_alice, Model, Limits(_alice), out var left));
        Assert.Equal(3_600_000 - 90_000, left.RemainingMs);
    }

    [Fact]
    public async Task UsageSurvivesARestart_BecauseTheMeterIsSeededFromTheLedger()
    {
        var quota = NewQuota();
        var r = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref r, 3_000_000, out _));
        await quota.CommitAsync(r, 3_000_000, "req-1", _alice);

        var restarted = NewQuota();
        var next = restarted.Begin(_alice, Model, Limits(_alice));
        Assert.False(restarted.TryReserve(ref next, 600_001, out var refusal));
        Assert.Equal(600_000, refusal.RemainingMs);
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), refusal.ResetsAt);
    }

    [Fact]
    public async Task MonthRollover_StartsAFreshQuota_AndTheOldMonthKeepsItsTotal()
    {
        var quota = NewQuota();
        var r = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref r, 3_600_000, out _));
        await quota.CommitAsync(r, 3_600_000, "req-may", _alice);
        Assert.False(quota.HasTimeLeft(_alice, Model, Limits(_alice), out _));

        _time.Advance(TimeSpan.FromHours(1));
        Assert.True(quota.HasTimeLeft(_alice, Model, Limits(_alice), out var june));
        Assert.Equal(3_600_000, june.RemainingMs);
        Assert.Equal(new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero), june.ResetsAt);
        var may = await _ledger.MonthTotalsAsync("org_a", new MonthPeriod(2026, 5));
        Assert.Equal(3_600_000, Assert.Single(may).Milliseconds);
    }

    [Fact]
    public async Task TwoKeysOfOneOrganization_DrawOnOnePool_EachJudgedByItsOwnLimit()
    {
        var quota = NewQuota();
        var bob = PrincipalOf("org_a", "usr_bob", "key_2", Model, hours: 0.5);
        var r = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref r, 1_800_000, out _));
        await quota.CommitAsync(r, 1_800_000, "req-1", _alice);

        Assert.False(quota.HasTimeLeft(bob, Model, Limits(bob), out var bobLeft));
        Assert.Equal(0, bobLeft.RemainingMs);
        Assert.True(quota.HasTimeLeft(_alice, Model, Limits(_alice), out var aliceLeft));
        Assert.Equal(1_800_000, aliceLeft.RemainingMs);
    }

    [Fact]
    public async Task OrganizationCap_LimitsAllModelsTogether_WhenConfigured()
    {
        var options = new QuotaOptions { OrganizationMonthlyAudioHours = 0.001 }; // 3.6 s
        var quota = NewQuota(options);
        var emotion = PrincipalOf("org_a", "usr_alice", "key_3", "velma-2-emotion-batch", hours: 1);
        var r = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref r, 3_000, out _));
        await quota.CommitAsync(r, 3_000, "req-1", _alice);

        var e = quota.Begin(emotion, "velma-2-emotion-batch", emotion.Key.Models["velma-2-emotion-batch"]);
        Assert.False(quota.TryReserve(ref e, 601, out var refusal));
        Assert.True(refusal.OrganizationCap);
        Assert.Equal(600, refusal.RemainingMs);
        Assert.Equal(600, quota.ReserveUpTo(ref e, 5_000));
        await quota.CommitAsync(e, 600, "req-2", emotion);
        Assert.False(quota.HasTimeLeft(_alice, Model, Limits(_alice), out _));
    }

    [Fact]
    public void Release_ChargesNothing()
    {
        var quota = NewQuota();
        var r = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref r, 3_600_000, out _));
        Assert.False(quota.HasTimeLeft(_alice, Model, Limits(_alice), out _));
        quota.Release(r);
        Assert.True(quota.HasTimeLeft(_alice, Model, Limits(_alice), out var left));
        Assert.Equal(3_600_000, left.RemainingMs);
    }

    [Fact]
    public async Task TheLedgerIsAppendOnly()
    {
        var quota = NewQuota();
        var r = quota.Begin(_alice, Model, Limits(_alice));
        Assert.True(quota.TryReserve(ref r, 1_000, out _));
        await quota.CommitAsync(r, 1_000, "req-1", _alice);
        using var c = new SqliteDatabase($"Data Source={_dbPath}").Open();
        using var update = c.CreateCommand();
        update.CommandText = "UPDATE usage_charges SET ms = 0";
        Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => update.ExecuteNonQuery());
    }
}
