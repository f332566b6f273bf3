using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;

namespace Tollgate.Identity;

/// <summary>What every <see cref="IAdminTokenStore"/> must do: inherit and implement <see cref="CreateStores"/>.</summary>
public abstract class AdminTokenStoreContractTests
{
    private (IAdminTokenStore Tokens, IIdentityStore Identity)? _stores;

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_567));

    /// <summary>The token store and the identity store of one database (a scoped token names an organization of it).</summary>
    protected abstract (IAdminTokenStore Tokens, IIdentityStore Identity) CreateStores(TimeProvider time);

    private IAdminTokenStore Tokens => (_stores ??= CreateStores(Time)).Tokens;

    private IIdentityStore Identity => (_stores ??= CreateStores(Time)).Identity;

    private AdminTokenRecord NewToken(string? orgId, string? name = "console") => new(
        "atk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10)), name, "tga_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
        KeyHash.FromBytes(RandomNumberGenerator.GetBytes(32)), orgId, Timestamps.Now(Time), null);

    [Fact]
    public async Task ATokenWithOrWithoutAScope_IsFoundByIdAndByHash_AndListedOldestFirst()
    {
        var org = await Identity.CreateOrganizationAsync("Acme");
        var before = (await Tokens.ListAsync()).Count;
        var operatorToken = NewToken(null, name: null);
        await Tokens.AddAsync(operatorToken);
        Time.Advance(TimeSpan.FromSeconds(1));
        var orgToken = NewToken(org.Id);
        await Tokens.AddAsync(orgToken);

        Assert.Equal(operatorToken, await Tokens.GetAsync(operatorToken.Id));
        Assert.Equal(orgToken, await Tokens.FindByHashAsync(orgToken.Hash));
        Assert.Equal(org.Id, (await Tokens.GetAsync(orgToken.Id))!.OrgId);
        var listed = await Tokens.ListAsync();
        Assert.Equal(before + 2, listed.Count);
        Assert.Equal([operatorToken, orgToken], listed.Where(t => t.Id == operatorToken.Id || t.Id == orgToken.Id));
        Assert.Null(await Tokens.GetAsync("atk_missing"));
        Assert.Null(await Tokens.FindByHashAsync(KeyHash.FromBytes(RandomNumberGenerator.GetBytes(32))));
    }

    [Fact]
    public async Task Revoking_MarksTheToken_KeepsTheFirstTime_AndIsFalseForNoSuchToken()
    {
        var token = NewToken(null);
        await Tokens.AddAsync(token);
        var first = Timestamps.Now(Time).AddMinutes(1);
        Assert.True(await Tokens.RevokeAsync(token.Id, first));
        Assert.True(await Tokens.RevokeAsync(token.Id, first.AddHours(1)));
        var revoked = await Tokens.FindByHashAsync(token.Hash);
        Assert.True(revoked!.IsRevoked);
        Assert.Equal(first, revoked.RevokedAt);
        Assert.False(await Tokens.RevokeAsync("atk_missing", first));
    }

    [Fact]
    public async Task TwoTokensWithOneHash_OrAScopeOfNoOrganization_AreRefused()
    {
        var token = NewToken(null);
        await Tokens.AddAsync(token);
        await Assert.ThrowsAnyAsync<Exception>(() => Tokens.AddAsync(NewToken(null) with { Hash = token.Hash }));
        await Assert.ThrowsAnyAsync<Exception>(() => Tokens.AddAsync(NewToken("org_not_stored")));
    }
}
