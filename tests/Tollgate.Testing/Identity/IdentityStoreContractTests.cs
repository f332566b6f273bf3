using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;

namespace Tollgate.Identity;

/// <summary>
/// What every <see cref="IIdentityStore"/> must do (SQLite now, PostgreSQL next): inherit and implement
/// <see cref="CreateStore"/>. Time comes from a <see cref="FakeTimeProvider"/>; organizations are fresh per test.
/// </summary>
public abstract class IdentityStoreContractTests
{
    private IIdentityStore? _store;
    private object? _storeLock;

    /// <summary>Sub-millisecond on purpose: stores keep milliseconds, and what a call returns must equal what is read back.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_567));

    /// <summary>Made on first use, once even when the first uses are concurrent (several tests start with parallel calls).</summary>
    protected IIdentityStore Store => LazyInitializer.EnsureInitialized(ref _store, ref _storeLock, () => CreateStore(Time));

    /// <summary>A store (on fresh storage, or shared: every test makes its own organizations) reading time from <paramref name="time"/>.</summary>
    protected abstract IIdentityStore CreateStore(TimeProvider time);

    protected static ApiKeyRecord NewKey(User user, DateTimeOffset createdAt, string? name = "ci key") => new(
        Id: "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10)),
        OrgId: user.OrgId,
        UserId: user.Id,
        Name: name,
        Prefix: "tgk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)),
        Hash: KeyHash.FromBytes(RandomNumberGenerator.GetBytes(32)),
        Models: new Dictionary<string, ModelLimits>
        {
            ["velma-2-stt-batch"] = new(3, 1.5),
            ["velma-2-stt-streaming"] = new(1, 0.25),
        }.ToFrozenDictionary(StringComparer.Ordinal),
        CreatedAt: createdAt,
        LastUsedAt: null,
        RevokedAt: null);

    private async Task<User> NewUserAsync()
    {
        var org = await Store.CreateOrganizationAsync("Acme " + Guid.NewGuid().ToString("N")[..6]);
        return await Store.CreateUserAsync(org.Id, "alice");
    }

    private static void AssertSameKey(ApiKeyRecord expected, ApiKeyRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(
            (expected.Id, expected.OrgId, expected.UserId, expected.Name, expected.Prefix, expected.Hash, expected.CreatedAt, expected.LastUsedAt, expected.RevokedAt),
            (actual.Id, actual.OrgId, actual.UserId, actual.Name, actual.Prefix, actual.Hash, actual.CreatedAt, actual.LastUsedAt, actual.RevokedAt));
        Assert.Equal(expected.Models.OrderBy(p => p.Key, StringComparer.Ordinal), actual.Models.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnOrganization_IsCreatedWithAnIdAndTheTimeToTheMillisecond_AndReadBackAsCreated()
    {
        var org = await Store.CreateOrganizationAsync("Acme “Voice” Ltd. — ÆØÅ");
        Assert.StartsWith("org_", org.Id);
        Assert.Equal("Acme “Voice” Ltd. — ÆØÅ", org.Name);
        Assert.Equal(Timestamps.ToMillisecond(Time.GetUtcNow()), org.CreatedAt);
        Assert.Equal(org, await Store.GetOrganizationAsync(org.Id));
        Assert.Contains(org, await Store.ListOrganizationsAsync());
        Assert.Null(await Store.GetOrganizationAsync("org_missing"));
    }

    [Fact]
    public async Task Organizations_AreListedOldestFirst_WithDistinctIds()
    {
        var before = (await Store.ListOrganizationsAsync()).Count;
        var created = new List<Organization>();
        for (var i = 0; i < 3; i++)
        {
            created.Add(await Store.CreateOrganizationAsync($"org {i}"));
            Time.Advance(TimeSpan.FromSeconds(1));
        }
        var listed = await Store.ListOrganizationsAsync();
        Assert.Equal(before + 3, listed.Count);
        Assert.Equal(created, listed.Where(o => created.Any(c => c.Id == o.Id)));
        Assert.Equal(3, created.Select(o => o.Id).Distinct().Count());
    }

    [Fact]
    public async Task Users_BelongToTheirOrganization_AndAreListedOnlyThere_OldestFirst()
    {
        var acme = await Store.CreateOrganizationAsync("acme");
        var other = await Store.CreateOrganizationAsync("other");
        var alice = await Store.CreateUserAsync(acme.Id, "alice");
        Time.Advance(TimeSpan.FromMilliseconds(5));
        var bob = await Store.CreateUserAsync(acme.Id, "bob");
        var carol = await Store.CreateUserAsync(other.Id, "carol");

        Assert.StartsWith("usr_", alice.Id);
        Assert.Equal(acme.Id, alice.OrgId);
        Assert.Equal([alice, bob], await Store.ListUsersAsync(acme.Id));
        Assert.Equal([carol], await Store.ListUsersAsync(other.Id));
        Assert.Equal(bob, await Store.GetUserAsync(bob.Id));
        Assert.Null(await Store.GetUserAsync("usr_missing"));
        Assert.Empty(await Store.ListUsersAsync("org_missing"));
    }

    [Fact]
    public async Task AKey_IsFoundByIdAndByHash_WithItsLimits_AndListedOnlyInItsOrganization()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var key = NewKey(alice, Timestamps.Now(Time));
        var unnamed = NewKey(alice, Timestamps.Now(Time).AddSeconds(1), name: null);
        var elsewhere = NewKey(bob, Timestamps.Now(Time));
        await Store.AddKeyAsync(key);
        await Store.AddKeyAsync(unnamed);
        await Store.AddKeyAsync(elsewhere);

        AssertSameKey(key, await Store.GetKeyAsync(key.Id));
        AssertSameKey(key, await Store.FindKeyByHashAsync(key.Hash));
        AssertSameKey(unnamed, await Store.GetKeyAsync(unnamed.Id));
        var listed = await Store.ListKeysAsync(alice.OrgId);
        Assert.Equal([key.Id, unnamed.Id], listed.Select(k => k.Id));
        Assert.Equal(3, (await Store.FindKeyByHashAsync(key.Hash))!.Models["velma-2-stt-batch"].Concurrency);
        Assert.Equal(0.25, (await Store.GetKeyAsync(key.Id))!.Models["velma-2-stt-streaming"].MonthlyAudioHours);
        Assert.Null(await Store.GetKeyAsync("key_missing"));
        Assert.Null(await Store.FindKeyByHashAsync(KeyHash.FromBytes(RandomNumberGenerator.GetBytes(32))));
    }

    [Fact]
    public async Task TwoKeysWithOneHash_AreRefused()
    {
        var alice = await NewUserAsync();
        var key = NewKey(alice, Timestamps.Now(Time));
        await Store.AddKeyAsync(key);
        await Assert.ThrowsAnyAsync<Exception>(() => Store.AddKeyAsync(NewKey(alice, Timestamps.Now(Time)) with { Hash = key.Hash }));
        Assert.Single(await Store.ListKeysAsync(alice.OrgId));
    }

    [Fact]
    public async Task Revoking_MarksTheKey_KeepsTheFirstTime_AndIsFalseForNoSuchKey()
    {
        var alice = await NewUserAsync();
        var key = NewKey(alice, Timestamps.Now(Time));
        await Store.AddKeyAsync(key);
        var first = Timestamps.Now(Time).AddMinutes(1);

        Assert.True(await Store.RevokeKeyAsync(key.Id, first));
        Assert.True(await Store.RevokeKeyAsync(key.Id, first.AddHours(1)));
        var revoked = await Store.FindKeyByHashAsync(key.Hash);
        Assert.True(revoked!.IsRevoked);
        Assert.Equal(first, revoked.RevokedAt);
        Assert.False(await Store.RevokeKeyAsync("key_missing", first));
    }

    [Fact]
    public async Task Touching_RecordsTheLastUse_AndNeverMovesItBack()
    {
        var alice = await NewUserAsync();
        var a = NewKey(alice, Timestamps.Now(Time));
        var b = NewKey(alice, Timestamps.Now(Time));
        await Store.AddKeyAsync(a);
        await Store.AddKeyAsync(b);
        var t1 = Timestamps.Now(Time).AddMinutes(1);
        var t2 = t1.AddMinutes(1);

        await Store.TouchKeysAsync([]);
        await Store.TouchKeysAsync([KeyValuePair.Create(a.Id, t2), KeyValuePair.Create(b.Id, t1)]);
        await Store.TouchKeysAsync([KeyValuePair.Create(a.Id, t1), KeyValuePair.Create("key_missing", t1)]);

        Assert.Equal(t2, (await Store.GetKeyAsync(a.Id))!.LastUsedAt);
        Assert.Equal(t1, (await Store.GetKeyAsync(b.Id))!.LastUsedAt);
    }

    [Fact]
    public async Task ASetting_IsMissingUntilSet_ThenHoldsTheLastValue()
    {
        var name = "setting-" + Guid.NewGuid().ToString("N");
        Assert.Null(await Store.GetSettingAsync(name));
        await Store.SetSettingAsync(name, "one");
        await Store.SetSettingAsync(name, "two");
        Assert.Equal("two", await Store.GetSettingAsync(name));
    }

    [Fact]
    public async Task AddSetting_StoresOnlyTheFirstValue_AndTellsEveryCallerWhichOneHolds()
    {
        Assert.Equal("first", await Store.AddSettingAsync("bootstrap_claim", "first"));
        Assert.Equal("first", await Store.AddSettingAsync("bootstrap_claim", "second"));
        Assert.Equal("first", await Store.GetSettingAsync("bootstrap_claim"));
    }

    [Fact]
    public async Task AddSetting_CalledAtOnceByMany_StoresExactlyOneOfTheirValues()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => Store.AddSettingAsync("race", $"caller-{i}"))));
        var winner = Assert.Single(answers.Distinct());
        Assert.StartsWith("caller-", winner);
        Assert.Equal(winner, await Store.GetSettingAsync("race"));
    }
    [Fact]
    public async Task Pages_OfOrganizationsUsersAndKeys_FollowCreationOrder_AndResumeAfterTheCursor()
    {
        var orgs = new List<Organization>();
        for (var i = 0; i < 5; i++)
        {
            orgs.Add(await Store.CreateOrganizationAsync($"paged {i}"));
            if (i != 2)
            {
                Time.Advance(TimeSpan.FromSeconds(1)); // orgs 2 and 3 share a created_at: the id breaks the tie
            }
        }
        var all = new List<Organization>();
        string? after = null;
        do
        {
            var page = await Store.PageOrganizationsAsync(2, after);
            Assert.InRange(page.Count, 0, 2);
            all.AddRange(page);
            after = page.Count == 2 ? page[^1].Id : null;
        }
        while (after is not null);
        Assert.Equal(await Store.ListOrganizationsAsync(), all);
        Assert.Equal(orgs.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id, StringComparer.Ordinal), all.Where(o => orgs.Any(c => c.Id == o.Id)));
        Assert.Empty(await Store.PageOrganizationsAsync(10, "org_not_stored"));

        var acme = orgs[0];
        var users = new List<User>();
        for (var i = 0; i < 3; i++)
        {
            users.Add(await Store.CreateUserAsync(acme.Id, $"user {i}"));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(users.Take(2), await Store.PageUsersAsync(acme.Id, 2, null));
        Assert.Equal(users.Skip(2), await Store.PageUsersAsync(acme.Id, 2, users[1].Id));
        Assert.Empty(await Store.PageUsersAsync(orgs[1].Id, 10, null));

        var keys = new List<ApiKeyRecord>();
        for (var i = 0; i < 3; i++)
        {
            var key = NewKey(users[i], Timestamps.Now(Time));
            await Store.AddKeyAsync(key);
            keys.Add(key);
        }
        var firstTwo = await Store.PageKeysAsync(acme.Id, 2, null);
        Assert.Equal(2, firstTwo.Count);
        var rest = await Store.PageKeysAsync(acme.Id, 2, firstTwo[^1].Id);
        Assert.Equal(keys.Select(k => k.Id).Order(StringComparer.Ordinal), firstTwo.Concat(rest).Select(k => k.Id).Order(StringComparer.Ordinal));
        Assert.Equal((await Store.ListKeysAsync(acme.Id)).Select(k => k.Id), firstTwo.Concat(rest).Select(k => k.Id));
    }

    [Fact]
    public async Task DisablingAUser_IsReadWithTheUserAndWithEveryKeyOfTheirs_UntilEnabled_AndKeepsTheFirstTime()
    {
        var alice = await NewUserAsync();
        var key = NewKey(alice, Timestamps.Now(Time));
        await Store.AddKeyAsync(key);
        var at = Timestamps.Now(Time).AddMinutes(1);

        var disabled = await Store.SetUserDisabledAsync(alice.Id, at);
        Assert.Equal(at, disabled!.DisabledAt);
        Assert.Equal(at, (await Store.SetUserDisabledAsync(alice.Id, at.AddHours(1)))!.DisabledAt);
        Assert.Equal(at, (await Store.GetUserAsync(alice.Id))!.DisabledAt);
        Assert.Equal(at, (await Store.FindKeyByHashAsync(key.Hash))!.UserDisabledAt);
        Assert.Equal(at, (await Store.GetKeyAsync(key.Id))!.UserDisabledAt);

        var enabled = await Store.SetUserDisabledAsync(alice.Id, null);
        Assert.Null(enabled!.DisabledAt);
        Assert.Equal(alice, enabled);
        Assert.Null((await Store.FindKeyByHashAsync(key.Hash))!.UserDisabledAt);
        Assert.Null(await Store.SetUserDisabledAsync("usr_missing", at));
    }

    [Fact]
    public async Task Rotating_StoresTheReplacementAndTheOldKeysExpiry_Atomically_AndOnlyForAKeyThatStillWorks()
    {
        var alice = await NewUserAsync();
        var old = NewKey(alice, Timestamps.Now(Time));
        await Store.AddKeyAsync(old);
        var now = Timestamps.Now(Time);
        var replacement = NewKey(alice, now);

        Assert.True(await Store.RotateKeyAsync(old.Id, replacement, now.AddHours(24), now));
        Assert.Equal(now.AddHours(24), (await Store.FindKeyByHashAsync(old.Hash))!.ExpiresAt);
        AssertSameKey(replacement, await Store.FindKeyByHashAsync(replacement.Hash));
        Assert.Null((await Store.GetKeyAsync(replacement.Id))!.ExpiresAt);

        // A second rotation may only bring the end closer.
        var second = NewKey(alice, now);
        Assert.True(await Store.RotateKeyAsync(old.Id, second, now.AddHours(48), now));
        Assert.Equal(now.AddHours(24), (await Store.GetKeyAsync(old.Id))!.ExpiresAt);
        var third = NewKey(alice, now);
        Assert.True(await Store.RotateKeyAsync(old.Id, third, now.AddHours(1), now));
        Assert.Equal(now.AddHours(1), (await Store.GetKeyAsync(old.Id))!.ExpiresAt);

        // Expired, revoked or missing: nothing is stored.
        var refused = NewKey(alice, now);
        Assert.False(await Store.RotateKeyAsync(old.Id, refused, now.AddHours(5), now.AddHours(1)));
        Assert.False(await Store.RotateKeyAsync("key_missing", refused, now.AddHours(5), now));
        await Store.RevokeKeyAsync(replacement.Id, now);
        Assert.False(await Store.RotateKeyAsync(replacement.Id, refused, now.AddHours(5), now));
        Assert.Null(await Store.FindKeyByHashAsync(refused.Hash));
        Assert.Equal(4, (await Store.ListKeysAsync(alice.OrgId)).Count);
    }
}
