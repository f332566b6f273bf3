using Microsoft.Extensions.Time.Testing;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Relational.Identity;

namespace Tollgate.Identity;

public sealed class KeyAuthenticatorTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-core-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private readonly SqlIdentityStore _store;
    private readonly KeyAuthenticator _authenticator;
    private readonly KeyIssuer _issuer;

    public KeyAuthenticatorTests()
    {
        var db = new SqliteDatabase($"Data Source={Path.Combine(_directory, "t.db")}");
        new SqliteMigrator().Migrate(db);
        _store = new SqlIdentityStore(db, _time);
        _authenticator = new KeyAuthenticator(_store, _time);
        _issuer = new KeyIssuer(_store, _time);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<IssuedKey> IssueAsync()
    {
        var org = await _store.CreateOrganizationAsync("o");
        var user = await _store.CreateUserAsync(org.Id, "u");
        return await _issuer.IssueAsync(user, null, new Dictionary<string, ModelLimits> { ["velma-2-stt-batch"] = new(3, 1.5) });
    }

    [Fact]
    public async Task Authenticate_IssuedKey_GivesItsPrincipalAndLimits()
    {
        var issued = await IssueAsync();
        var result = await _authenticator.AuthenticateAsync(issued.Secret);
        Assert.Equal(AuthStatus.Ok, result.Status);
        Assert.Equal(issued.Record.OrgId, result.Principal!.OrgId);
        Assert.True(result.Principal.TryGetLimits("velma-2-stt-batch", out var limits));
        Assert.Equal(3, limits.Concurrency);
        Assert.Equal(5_400_000, limits.MonthlyAudioMs);
        Assert.False(result.Principal.TryGetLimits("velma-2-emotion-batch", out _));
    }

    [Theory]
    [InlineData(null, nameof(AuthStatus.Missing))]
    [InlineData("", nameof(AuthStatus.Missing))]
    [InlineData("abc", nameof(AuthStatus.Malformed))]
    public async Task Authenticate_BadShapes_AreRejectedWithoutALookup(string? key, string expected) =>
        Assert.Equal(Enum.Parse<AuthStatus>(expected), (await _authenticator.AuthenticateAsync(key)).Status);

    [Fact]
    public async Task Authenticate_WellFormedButUnknown_IsUnknown() =>
        Assert.Equal(AuthStatus.Unknown, (await _authenticator.AuthenticateAsync(ApiKeys.Generate())).Status);

    [Fact]
    public async Task Revocation_ThroughAnotherNode_TakesEffectWithinOneSecond()
    {
        var issued = await IssueAsync();
        Assert.True((await _authenticator.AuthenticateAsync(issued.Secret)).Succeeded);
        // Another node revokes in the shared store; this node's cache is not told.
        await _store.RevokeKeyAsync(issued.Record.Id, _time.GetUtcNow());
        Assert.True((await _authenticator.AuthenticateAsync(issued.Secret)).Succeeded);
        _time.Advance(KeyAuthenticator.RevalidateAfter);
        Assert.Equal(AuthStatus.Revoked, (await _authenticator.AuthenticateAsync(issued.Secret)).Status);
    }

    [Fact]
    public async Task Revocation_ThroughThisNode_TakesEffectAtOnce()
    {
        var issued = await IssueAsync();
        Assert.True((await _authenticator.AuthenticateAsync(issued.Secret)).Succeeded);
        await _store.RevokeKeyAsync(issued.Record.Id, _time.GetUtcNow());
        _authenticator.Invalidate(issued.Record.Hash);
        Assert.Equal(AuthStatus.Revoked, (await _authenticator.AuthenticateAsync(issued.Secret)).Status);
    }

    [Fact]
    public async Task LastUsed_IsRecordedInBatches()
    {
        var issued = await IssueAsync();
        await _authenticator.AuthenticateAsync(issued.Secret);
        var drained = _authenticator.DrainLastUsed();
        Assert.Equal(issued.Record.Id, Assert.Single(drained).Key);
        await _store.TouchKeysAsync(drained);
        Assert.Equal(_time.GetUtcNow(), (await _store.GetKeyAsync(issued.Record.Id))!.LastUsedAt);
        Assert.Empty(_authenticator.DrainLastUsed());
    }
    [Fact]
    public async Task ARotatedKey_WorksUntilItsExpiry_ToTheTick_EvenFromTheCache_ThenIsExpired()
    {
        var issued = await IssueAsync();
        Assert.True((await _authenticator.AuthenticateAsync(issued.Secret)).Succeeded);
        var replacement = await _issuer.RotateAsync(issued.Record, TimeSpan.FromMinutes(10));
        Assert.NotNull(replacement);
        await _authenticator.ChangedAsync(issued.Record.Hash);

        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.True((await _authenticator.AuthenticateAsync(issued.Secret)).Succeeded); // read and cached now
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(AuthStatus.Expired, (await _authenticator.AuthenticateAsync(issued.Secret)).Status); // judged from the cache
        Assert.True((await _authenticator.AuthenticateAsync(replacement!.Secret)).Succeeded);
        Assert.Equal(replacement.Record.Models, (await _authenticator.AuthenticateAsync(replacement.Secret)).Principal!.Key.Models);
    }

    [Fact]
    public async Task DisablingAUser_RefusesEveryCachedKeyOfTheirsAtOnce_WhenTold_AndEnablingAcceptsThemAgain()
    {
        var issued = await IssueAsync();
        var user = (await _store.GetUserAsync(issued.Record.UserId))!;
        var second = await _issuer.IssueAsync(user, null, new Dictionary<string, ModelLimits> { ["velma-2-stt-batch"] = new(1, 1) });
        var bystander = await IssueAsync();
        foreach (var key in new[] { issued, second, bystander })
        {
            Assert.True((await _authenticator.AuthenticateAsync(key.Secret)).Succeeded);
        }

        await _store.SetUserDisabledAsync(user.Id, _time.GetUtcNow());
        await _authenticator.UserChangedAsync(user.Id);
        Assert.Equal(AuthStatus.UserDisabled, (await _authenticator.AuthenticateAsync(issued.Secret)).Status);
        Assert.Equal(AuthStatus.UserDisabled, (await _authenticator.AuthenticateAsync(second.Secret)).Status);
        Assert.True((await _authenticator.AuthenticateAsync(bystander.Secret)).Succeeded);

        await _store.SetUserDisabledAsync(user.Id, null);
        await _authenticator.UserChangedAsync(user.Id);
        Assert.True((await _authenticator.AuthenticateAsync(issued.Secret)).Succeeded);
    }

    [Fact]
    public async Task DisablingAUser_ThroughAnotherNode_TakesEffectWithinOneSecond()
    {
        var issued = await IssueAsync();
        Assert.True((await _authenticator.AuthenticateAsync(issued.Secret)).Succeeded);
        await _store.SetUserDisabledAsync(issued.Record.UserId, _time.GetUtcNow());
        _time.Advance(KeyAuthenticator.RevalidateAfter);
        Assert.Equal(AuthStatus.UserDisabled, (await _authenticator.AuthenticateAsync(issued.Secret)).Status);
    }
}
