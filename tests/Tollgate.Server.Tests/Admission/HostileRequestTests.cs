using System.Net;
using Tollgate.Infrastructure;
using Tollgate.Models;

namespace Tollgate.Admission;

/// <summary>
/// Requests shaped to hurt the server itself (docs/reliability.md): oversized headers and request lines are refused by
/// Kestrel before anything is read, traversal-shaped ids are just ids that name nothing, and the server keeps serving.
/// </summary>
public sealed class HostileRequestTests : IAsyncLifetime
{
    private TollgateServer _server = null!;
    private TestKey _key = null!;

    public async Task InitializeAsync()
    {
        _server = await TollgateServer.StartAsync();
        _key = await _server.CreateKeyAsync("velma-2-stt-batch");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task HeadersOver32KB_Are431_ARequestLineOver8KB_Is414_ANulInThePath_Is400_AndTheServerGoesOnServing()
    {
        using var client = _server.CreateClient(_key.Secret);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "api/velma-2-batch/list-presets"))
        {
            request.Headers.TryAddWithoutValidation("X-Padding", new string('a', 64 * 1024));
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        }
        using (var response = await client.GetAsync("api/velma-2-stt-batch/" + new string('a', 16 * 1024)))
        {
            Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        }
        // A NUL in the path is refused by Kestrel as a bad request line, like the two above before the app sees it.
        using (var response = await client.GetAsync("admin/keys/key%00id"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        using var admin = _server.CreateAdminClient();
        using var fine = await admin.GetAsync($"admin/keys/{_key.KeyId}");
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Theory]
    [InlineData("admin/keys/..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("admin/keys/..%5C..%5Ctollgate.db")]
    [InlineData("admin/orgs/..%2Forgs/users")]
    [InlineData("admin/orgs/%2E%2E/usage")]
    public async Task TraversalShapedIds_Are404InShape_AndReachNothingOutsideTheirTable(string path)
    {
        using var admin = _server.CreateAdminClient();
        using var response = await admin.GetAsync(path);
        await BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.NotFound, "not_found", null);
        Assert.DoesNotContain(_server.Logs, line => line.Contains("Exception", StringComparison.Ordinal) && line.Contains("fail", StringComparison.OrdinalIgnoreCase));
    }
}
