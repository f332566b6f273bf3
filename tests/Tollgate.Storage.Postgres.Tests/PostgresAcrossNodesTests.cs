using System.Collections.Frozen;
using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Tollgate.Dubbing;
using Tollgate.Jobs;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Identity;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Relational.Identity;
using Tollgate.Storage.Relational.Jobs;
using Tollgate.Storage.Relational.Metering;

namespace Tollgate.Storage.Postgres;

/// <summary>
/// What the contracts cannot see from one store instance: several nodes, each its own pool (its own
/// <see cref="PostgresDatabase"/>) on one database, claiming, charging and recording at once.
/// </summary>
public sealed class PostgresAcrossNodesTests : IDisposable
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly TempSchema _schema = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 20, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _schema.Dispose();

    [Fact]
    public async Task ClaimersOnThreeNodes_NeverGetTheSameJob()
    {
        var nodes = Enumerable.Range(0, 3).Select(_ => new SqlJobStore(_schema.Open(), _time)).ToArray();
        for (var i = 0; i < 60; i++)
        {
            await nodes[0].EnqueueAsync(new NewJob($"job-{i:D2}", "platform", $"subject-{i}", 3));
        }
        var claimed = await Task.WhenAll(Enumerable.Range(0, 9).Select(w => Task.Run(async () =>
        {
            var mine = new List<string>();
            IReadOnlyList<Job> batch;
            while ((batch = await nodes[w % 3].ClaimAsync(["platform"], 2, $"node-{w}", Ttl)).Count > 0)
            {
                mine.AddRange(batch.Select(j => j.Id));
            }
            return mine;
        })));
        var all = claimed.SelectMany(c => c).ToList();
        Assert.Equal(60, all.Count);
        Assert.Equal(60, all.Distinct().Count());
    }

    [Fact]
    public async Task AJobOfANodeThatDied_IsResumedByAnother_OnceItsClaimRunsOut_AndOnlyByOne()
    {
        var dead = new SqlJobStore(_schema.Open(), _time);
        await dead.EnqueueAsync(new NewJob("dub_1:generate", "dub", "dub_1", 5));
        Assert.Single(await dead.ClaimAsync(["dub"], 1, "dead-node", Ttl));

        var others = Enumerable.Range(0, 4).Select(_ => new SqlJobStore(_schema.Open(), _time)).ToArray();
        Assert.All(await Task.WhenAll(others.Select((s, i) => s.ClaimAsync(["dub"], 1, $"node-{i}", Ttl))), Assert.Empty);

        _time.Advance(Ttl);
        var resumed = (await Task.WhenAll(others.Select((s, i) => s.ClaimAsync(["dub"], 1, $"node-{i}", Ttl)))).SelectMany(c => c).ToList();
        var job = Assert.Single(resumed);
        Assert.Equal(2, job.Attempts);
        // The dead node's late writes change nothing now that its claim was taken over.
        Assert.False(await dead.CompleteAsync(job.Id, "dead-node"));
        Assert.False(await dead.RenewAsync(job.Id, "dead-node", Ttl));
        var stored = await others[0].GetAsync(job.Id);
        Assert.Equal((JobState.Running, job.ClaimHolder), (stored!.State, stored.ClaimHolder));
    }

    [Fact]
    public async Task ChargesOfOneOrganization_FromThreeNodesAtOnce_NeverTogetherSpendMoreThanTheAllowance()
    {
        var nodes = Enumerable.Range(0, 3).Select(_ => new SqlDubbingStore(_schema.Open())).ToArray();
        var at = _time.GetUtcNow();
        var dubs = new List<Dub>();
        for (var i = 0; i < 12; i++)
        {
            var dub = new Dub
            {
                Id = $"dub_{i:D2}", OrgId = "org_1", UserId = "usr_1", Name = "call", TargetLanguage = "de",
                Status = DubStatus.New, CreatedAt = at, UpdatedAt = at,
            };
            await nodes[0].AddDubAsync(dub);
            var preprocessed = dub with { Status = DubStatus.Preprocessed, RequiredCredits = 3, InputDurationMs = 2_600, InputFormat = "wav/pcm_s16le" };
            Assert.True(await nodes[0].UpdateDubAsync(preprocessed, DubStatus.New));
            dubs.Add(preprocessed);
        }
        var outcomes = await Task.WhenAll(dubs.Select((d, i) => Task.Run(() =>
        {
            var queued = d with { Status = DubStatus.Queued, ApiCreditsUsed = 3 };
            var charge = new CreditEntry(d.Id + ":charge", d.OrgId, d.Id, 3, MonthPeriod.Of(at), at);
            return nodes[i % 3].ChargeAsync(queued, DubStatus.Preprocessed, charge, allowance: 20);
        })));
        Assert.Equal(6, outcomes.Count(o => o.Status == ChargeStatus.Charged));
        Assert.Equal(6, outcomes.Count(o => o.Status == ChargeStatus.InsufficientCredits));
        Assert.Equal(18, await nodes[1].CreditsUsedAsync("org_1", MonthPeriod.Of(at)));
    }

    [Fact]
    public async Task OneChargeWrittenByThreeNodesAtOnce_IsRecordedOnce()
    {
        var nodes = Enumerable.Range(0, 3).Select(_ => new SqlUsageLedger(_schema.Open())).ToArray();
        var charge = new UsageCharge("req_1", "org_1", "usr_1", "key_1", "velma-2-stt-batch", 3_000, new MonthPeriod(2026, 5), _time.GetUtcNow());
        var written = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => nodes[i % 3].AppendAsync(charge))));
        Assert.Single(written, w => w);
        var total = Assert.Single(await nodes[2].MonthTotalsAsync("org_1", new MonthPeriod(2026, 5)));
        Assert.Equal(("velma-2-stt-batch", 3_000L, 1L), (total.Model, total.Milliseconds, total.Charges));
    }

    [Fact]
    public async Task TheLedger_RefusesUpdatesDeletesAndTruncation()
    {
        var database = _schema.Open();
        var ledger = new SqlUsageLedger(database);
        await ledger.AppendAsync(new UsageCharge("req_1", "org_1", "usr_1", "key_1", "velma-2-stt-batch", 3_000, new MonthPeriod(2026, 5), _time.GetUtcNow()));
        await using var c = await database.DataSource.OpenConnectionAsync();
        foreach (var sql in new[] { "UPDATE usage_charges SET ms = 0", "DELETE FROM usage_charges", "TRUNCATE usage_charges" })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => c.ExecuteAsync(sql));
            Assert.Contains("append-only", refused.MessageText);
        }
        Assert.Equal(3_000L, await c.ExecuteScalarAsync<long>("SELECT ms FROM usage_charges"));
    }

    [Fact]
    public async Task NodesFlushingOverlappingKeyUse_InOppositeOrders_AtOnce_AllSucceed()
    {
        var nodes = Enumerable.Range(0, 4).Select(_ => new SqlIdentityStore(_schema.Open(), _time)).ToArray();
        var org = await nodes[0].CreateOrganizationAsync("acme");
        var user = await nodes[0].CreateUserAsync(org.Id, "ada");
        var keys = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var key = new ApiKeyRecord($"key_{i:D2}", org.Id, user.Id, null, "tgk_abc", KeyHash.FromBytes(RandomNumberGenerator.GetBytes(32)),
                new Dictionary<string, ModelLimits> { ["velma-2-stt-batch"] = new(1, 1) }.ToFrozenDictionary(StringComparer.Ordinal),
                _time.GetUtcNow(), null, null);
            await nodes[0].AddKeyAsync(key);
            keys.Add(key.Id);
        }
        var at = _time.GetUtcNow();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(round => Task.Run(() =>
        {
            var order = round % 2 == 0 ? keys : Enumerable.Reverse(keys).ToList();
            return nodes[round % 4].TouchKeysAsync([.. order.Select(id => KeyValuePair.Create(id, at.AddSeconds(round)))]);
        })));
        Assert.All(await nodes[1].ListKeysAsync(org.Id), k => Assert.Equal(at.AddSeconds(15), k.LastUsedAt));
    }
}
