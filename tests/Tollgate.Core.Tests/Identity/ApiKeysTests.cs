using Tollgate.Identity;

namespace Tollgate.Identity;

public sealed class ApiKeysTests
{
    [Fact]
    public void Generate_ProducesWellFormedDistinctKeys()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKeys.Generate()).ToList();
        Assert.All(keys, k =>
        {
            Assert.Equal(ApiKeys.Length, k.Length);
            Assert.StartsWith(ApiKeys.Prefix, k);
            Assert.True(ApiKeys.IsWellFormed(k));
        });
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void IsWellFormed_AnySingleCharacterTypo_IsCaughtByTheChecksum()
    {
        var key = ApiKeys.Generate();
        var caught = 0;
        var total = 0;
        for (var i = ApiKeys.Prefix.Length; i < key.Length; i++)
        {
            if (key[i] == '_')
            {
                continue;
            }
            var typo = key.ToCharArray();
            typo[i] = typo[i] == 'a' ? 'b' : 'a';
            total++;
            caught += ApiKeys.IsWellFormed(new string(typo)) ? 0 : 1;
        }
        Assert.Equal(total, caught);
    }

    [Theory]
    [InlineData("")]
    [InlineData("tgk_")]
    [InlineData("sk_live_0123456789012345678901234567890123")]
    [InlineData("tgk_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!_AAAAAA")]
    public void IsWellFormed_WrongShape_IsFalse(string key) => Assert.False(ApiKeys.IsWellFormed(key));

    [Fact]
    public void Hash_IsSha256OfTheWholeKey_AndRoundTripsThroughHex()
    {
        var key = ApiKeys.Generate();
        var hash = ApiKeys.Hash(key);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        Assert.Equal(expected, hash.ToHex());
        Assert.Equal(hash, KeyHash.FromHex(hash.ToHex()));
        Assert.True(hash.FixedTimeEquals(KeyHash.FromHex(expected)));
        Assert.False(hash.FixedTimeEquals(ApiKeys.Hash(ApiKeys.Generate())));
    }

    [Fact]
    public void VisiblePrefix_RevealsTwelveCharacters() =>
        Assert.Equal(12, ApiKeys.VisiblePrefix(ApiKeys.Generate()).Length);
}
