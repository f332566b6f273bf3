using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Tollgate.Infrastructure;
using Tollgate.Server.Hosting;

namespace Tollgate.Hosting;

/// <summary>
/// Where the data goes: by default <c>./data</c> under the folder the server is started from (so <c>dotnet run</c> from the
/// repository root, in Debug or Release, always finds the same store), never the folder of the binary.
/// </summary>
public sealed class DataDirectoryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-data-dir", Guid.NewGuid().ToString("N"));

    public DataDirectoryTests() => Directory.CreateDirectory(_directory);

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

    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();

    [Fact]
    public void TheDefault_IsDataUnderTheWorkingDirectory_AndARelativeSettingIsResolvedThereToo()
    {
        Assert.Equal(Path.Combine(_directory, "data"), DataDirectory.Resolve(Settings(), _directory).Path);
        Assert.Equal(Path.Combine(_directory, "store", "x"), DataDirectory.Resolve(Settings(("Tollgate:DataDirectory", "store/x")), _directory).Path);
        var absolute = Path.Combine(Path.GetTempPath(), "elsewhere");
        Assert.Equal(absolute, DataDirectory.Resolve(Settings(("Tollgate:DataDirectory", absolute)), _directory).Path);
        // Without an explicit folder: the process's working directory, whatever folder the binary is in.
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "data"), DataDirectory.Resolve(Settings()).Path);
    }

    [Fact]
    public async Task AServerStartedWithNoDataSetting_KeepsItsStoreUnderTheWorkingDirectory_AndFindsItAgain()
    {
        var data = Path.Combine(_directory, "data");
        string adminToken;
        await using (var first = await ServerProcess.StartWithDefaultDataAsync(_directory))
        {
            var output = await first.WaitForOutputAsync("====\n", TimeSpan.FromSeconds(60), occurrences: 2);
            adminToken = Regex.Match(output, @"\b(tga_[A-Za-z0-9]+)").Groups[1].Value;
            Assert.NotEmpty(adminToken);
            Assert.True(File.Exists(Path.Combine(data, "tollgate.db")), output);
            var sample = Regex.Match(output, @"upload_file=@(\S+)").Groups[1].Value;
            Assert.Equal(Path.Combine(data, "sample.wav"), sample);
            Assert.True(File.Exists(sample));
        }
        // Started from the same folder, it finds the same store: the demo organization, and no new secrets.
        await using var second = await ServerProcess.StartWithDefaultDataAsync(_directory);
        using var admin = new HttpClient { BaseAddress = new Uri(second.Address! + "/") };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        Assert.Contains("Demo", await admin.GetStringAsync("admin/orgs"));
        Assert.DoesNotContain("tgk_", second.Output);
    }

    [Fact]
    public async Task AConnectionStringOfNoStoreThisServerHas_StopsTheStart_NamingTheSetting_WithoutRepeatingIt()
    {
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tollgate"] = "Uri=mongodb://db.internal/tollgate;Password=s3cret-pw",
        }));
        Assert.Contains("ConnectionStrings:Tollgate", error.Message);
        Assert.Contains("SQLite", error.Message);
        Assert.Contains("PostgreSQL", error.Message);
        Assert.DoesNotContain("s3cret-pw", error.Message);

        var unreadable = await Assert.ThrowsAsync<ConfigurationException>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tollgate"] = "Data Source=db.internal;Initial Catalog=tollgate",
        }));
        Assert.Contains("ConnectionStrings:Tollgate", unreadable.Message);

        var noDatabase = await Assert.ThrowsAsync<ConfigurationException>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tollgate"] = "Host=db.internal;Username=tollgate;Password=s3cret-pw",
        }));
        Assert.Contains("ConnectionStrings:Tollgate", noDatabase.Message);
        Assert.Contains("Database=", noDatabase.Message);
        Assert.DoesNotContain("s3cret-pw", noDatabase.Message);
    }

    [Fact]
    public async Task APostgresServerThatCannotBeReached_StopsTheStart_SayingWhere_WithoutThePassword()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Tollgate"] = $"Host=127.0.0.1;Port={port};Database=tollgate;Username=tollgate;Password=s3cret-pw",
        }));
        Assert.Contains($"127.0.0.1:{port}/tollgate", error.Message);
        Assert.DoesNotContain("s3cret-pw", error.Message);
    }

    [Fact]
    public async Task TheRetiredDubbingDirectorySetting_StopsTheStart_SayingWhereTheFilesGo()
    {
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:Dubbing:Directory"] = "/srv/dubs",
        }));
        Assert.Contains("Tollgate:Dubbing:Directory", error.Message);
        Assert.Contains("Tollgate:DataDirectory", error.Message);
    }
}
