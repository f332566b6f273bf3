namespace Tollgate.Client.Http;

public sealed class BaseAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080/admin/orgs")]
    [InlineData("http://127.0.0.1:5080/", "http://127.0.0.1:5080/admin/orgs")]
    [InlineData("https://example.com/gateway", "https://example.com/gateway/admin/orgs")]
    [InlineData("https://example.com/gateway/", "https://example.com/gateway/admin/orgs")]
    public void Normalize_KeepsAPathPrefix(string address, string expected)
    {
        var normalized = BaseAddress.Normalize(new Uri(address), "address");
        Assert.Equal(expected, BaseAddress.Combine(normalized, "admin/orgs").ToString());
    }

    [Theory]
    [InlineData("ftp://example.com")]
    [InlineData("/relative")]
    public void Normalize_NotAnHttpUrl_Throws(string address)
    {
        Assert.Throws<ArgumentException>(() => BaseAddress.Normalize(new Uri(address, UriKind.RelativeOrAbsolute), "address"));
    }

    [Fact]
    public void Normalize_Null_ThrowsNamingBaseAddress()
    {
        var ex = Assert.Throws<ArgumentException>(() => BaseAddress.Normalize(null, "httpClient"));
        Assert.Contains("BaseAddress", ex.Message);
    }
}
