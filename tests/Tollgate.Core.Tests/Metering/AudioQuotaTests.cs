using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Observability;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Relational.Metering;

namespace Tollgate.Metering;

/// <summary>The quota service over the real SQLite ledger: durable commits, idempotency, restarts, rollover, pooling, the cap.</summary>
public sealed class AudioQuotaTests : IDisposable
{
    private const string Model = "velma-2-stt-batch";
    private readonly string _dbPath = Path.Combine(Path.GetTempPath(), $"tollgate-ledger-{Guid.NewGuid():N}.db");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 31, 23, 0, 0, TimeSpan.Zero));
    private readonly SqlUsageLedger _ledger;
    private readonly Principal _alice = PrincipalOf("org_a", "usr_alice", "key_1", Model, hours: 1.0);

    public AudioQuotaTests()
    {
        var database = new SqliteDatabase($"Data Source={_dbPath}");
        new SqliteMigrator().Migrate(database);
        _ledger = new SqlUsageLedger(database);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_dbPath) + "*"))
        {
            File.Delete(file);
        }
    }

    internal static TollgateMetrics Metrics() => new(new Meter("tollgate-tests"));

    private AudioQuota NewQuota(QuotaOptions? options = null) =>
        new(new InProcessQuotaMeter(_ledger), _ledger, _time, options ?? new QuotaOptions(), Metrics());

    internal static Principal PrincipalOf(string org, string user, string key, string model, double hours) =>
        new ApiKeyRecord(key, org, user, null, "tgk_xxxxxxxx", default,
            new Dictionary<string, ModelLimits> { [model] = new(5, hours) }.ToFrozenDictionary(), DateTimeOffset.UnixEpoch, null, null).Principal;

    private static QuotaScope ScopeOf(AudioQuota quota, Principal p, string model = Model) => quota.Scope(p, model, p.Key.Models[model]);

    private static async Task<QuotaReservation> Reserve(AudioQuota quota, QuotaScope scope, long ms)
    {
        var grant = await quota.ReserveAsync(QuotaReservation.Begin(scope), ms, ReserveMode.Exact);
        Assert.Equal(ms, grant.GrantedMs);
        return grant.Reservation;
    }

    [Fact]
    public async Task Commit_WritesOneLedgerRow_AndARepeatIsIgnored()
    {
        var quota = NewQuota();
        var scope = ScopeOf(quota, _alice);
        Assert.True(await quota.CommitAsync(await Reserve(quota, scope, 90_000), 90_000, "req-1", _alice));
        Assert.False(await quota.CommitAsync(await Reserve(quota, scope, 90_000), 90_000, "req-1", _alice));

        var row = Assert.Single(await _ledger.ChargesAsync("org_a", new MonthPeriod(2026, 5)));
        Assert.Equal(("req-1", "usr_alice", "key_1", Model, 90_000L), (row.RequestId, row.UserId, row.KeyId, row.Model, row.Milliseconds));
        // The repeated commit gave its reservation back: only one charge counts.
        Assert.Equal(3_600_000 - 90_000, (await quota.StandingAsync(scope)).RemainingMs);
    }

    [Fact]
    public async Task UsageSurvivesARestart_BecauseTheMeterIsSeededFromTheLedger()
    {
        var quota = NewQuota();
        await quota.CommitAsync(await Reserve(quota, ScopeOf(quota, _alice), 3_000_000), 3_000_000, "req-1", _alice);

        var restarted = NewQuota();
        var scope = ScopeOf(restarted, _alice);
        var refused = await restarted.ReserveAsync(QuotaReservation.Begin(scope), 600_001, ReserveMode.Exact);
        Assert.Equal((0L, 600_000L), (refused.GrantedMs, refused.RemainingMs));
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), AudioQuota.Refusal(scope, refused.RemainingMs, false).ResetsAt);
    }

    [Fact]
    public async Task MonthRollover_StartsAFreshQuota_AndTheOldMonthKeepsItsTotal()
    {
        var quota = NewQuota();
        await quota.CommitAsync(await Reserve(quota, ScopeOf(quota, _alice), 3_600_000), 3_600_000, "req-may", _alice);
        Assert.Equal(0, (await quota.StandingAsync(ScopeOf(quota, _alice))).RemainingMs);

        _time.Advance(TimeSpan.FromHours(1));
        var june = ScopeOf(quota, _alice);
        Assert.Equal(new MonthPeriod(2026, 6), june.Period);
        Assert.Equal(3_600_000, (await quota.StandingAsync(june)).RemainingMs);
        var may = await _ledger.MonthTotalsAsync("org_a", new MonthPeriod(2026, 5));
        Assert.Equal(3_600_000, Assert.Single(may).Milliseconds);
    }

    [Fact]
    public async Task TwoKeysOfOneOrganization_DrawOnOnePool_EachJudgedByItsOwnLimit()
    {
        var quota = NewQuota();
        var bob = PrincipalOf("org_a", "usr_bob", "key_2", Model, hours: 0.5);
        await quota.CommitAsync(await Reserve(quota, ScopeOf(quota, _alice), 1_800_000), 1_800_000, "req-1", _alice);

        Assert.Equal(0, (await quota.StandingAsync(ScopeOf(quota, bob))).RemainingMs);
        Assert.Equal(1_800_000, (await quota.StandingAsync(ScopeOf(quota, _alice))).RemainingMs);
    }

    [Fact]
    public async Task OrganizationCap_LimitsAllModelsTogether_WhenConfigured()
    {
        var quota = NewQuota(new QuotaOptions { OrganizationMonthlyAudioHours = 0.001 }); // 3.6 s
        var emotion = PrincipalOf("org_a", "usr_alice", "key_3", "velma-2-emotion-batch", hours: 1);
        await quota.CommitAsync(await Reserve(quota, ScopeOf(quota, _alice), 3_000), 3_000, "req-1", _alice);

        var scope = ScopeOf(quota, emotion, "velma-2-emotion-batch");
        var refused = await quota.ReserveAsync(QuotaReservation.Begin(scope), 601, ReserveMode.Exact);
        Assert.Equal((0L, 600L, true), (refused.GrantedMs, refused.RemainingMs, refused.LimitedByOrganizationCap));
        var partial = await quota.ReserveAsync(QuotaReservation.Begin(scope), 5_000, ReserveMode.UpTo);
        Assert.Equal(600, partial.GrantedMs);
        await quota.CommitAsync(partial.Reservation, 600, "req-2", emotion);
        Assert.Equal(new QuotaStanding(0, true), await quota.StandingAsync(ScopeOf(quota, _alice)));
    }

    [Fact]
    public async Task Release_ChargesNothing()
    {
        var quota = NewQuota();
        var scope = ScopeOf(quota, _alice);
        var reservation = await Reserve(quota, scope, 3_600_000);
        Assert.Equal(0, (await quota.StandingAsync(scope)).RemainingMs);
        await quota.ReleaseAsync(reservation);
        Assert.Equal(3_600_000, (await quota.StandingAsync(scope)).RemainingMs);
        Assert.Empty(await _ledger.ChargesAsync("org_a", scope.Period));
    }

    [Fact]
    public async Task TheLedgerIsAppendOnly()
    {
        var quota = NewQuota();
        await quota.CommitAsync(await Reserve(quota, ScopeOf(quota, _alice), 1_000), 1_000, "req-1", _alice);
        using var c = new SqliteDatabase($"Data Source={_dbPath}").Open();
        using var update = c.CreateCommand();
        update.CommandText = "UPDATE usage_charges SET ms = 0";
        Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => update.ExecuteNonQuery());
    }
}
