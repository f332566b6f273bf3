using System.Net;
using System.Net.Sockets;

namespace Tollgate.Hosting;

/// <summary>The listen address is ASP.NET Core's usual one (DESIGN 1): <c>ASPNETCORE_URLS</c> and <c>--urls</c> both work.</summary>
public sealed class ListenAddressTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-urls", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task AspNetCoreUrls_ChoosesTheAddress()
    {
        Directory.CreateDirectory(_directory);
        var port = FreePort();
        await using var server = await ServerProcess.StartAsync(_directory,
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}", ["Tollgate__Bootstrap__CreateDemo"] = "false" },
            urls: null);
        Assert.Equal($"http://127.0.0.1:{port}", server.Address);
        using var client = new HttpClient();
        using var response = await client.GetAsync($"http://127.0.0.1:{port}/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheUrlsArgument_ChoosesTheAddress()
    {
        Directory.CreateDirectory(_directory);
        var port = FreePort();
        await using var server = await ServerProcess.StartAsync(_directory,
            new Dictionary<string, string> { ["Tollgate__Bootstrap__CreateDemo"] = "false" }, urls: $"http://127.0.0.1:{port}");
        Assert.Equal($"http://127.0.0.1:{port}", server.Address);
    }
}
