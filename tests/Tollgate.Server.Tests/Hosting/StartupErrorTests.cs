namespace Tollgate.Hosting;

/// <summary>
/// A start that fails says why in one line per problem, every problem at once, naming the setting and its value, with
/// exit code 2 for configuration and 1 for anything else; a stack trace only with <c>--verbose</c> (or Debug logging).
/// The built server is run as a process, as an operator runs it.
/// </summary>
public sealed class StartupErrorTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-startup-errors", Guid.NewGuid().ToString("N"));

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

    private static readonly Dictionary<string, string> BadSettings = new()
    {
        ["Tollgate__RateLimits__Rules__global__Limit"] = "0",
        ["Tollgate__Backends__velma-2-stt-batch__Url"] = "ftp://models.internal",
        ["Tollgate__Backends__no-such-model__Url"] = "https://models.internal",
        ["Tollgate__Jobs__Workers"] = "0",
        ["Tollgate__Dubbing__MonthlyCredits"] = "abc",
        ["ConnectionStrings__Tollgate"] = "Host=db.internal;Username=tollgate;Password=s3cret-pw",
    };

    [Fact]
    public async Task BadSettings_AreOneLineEach_AllAtOnce_ExitCode2_NoStackTrace()
    {
        var (exit, output) = await ServerProcess.RunToExitAsync(_directory, BadSettings);
        Assert.Equal(2, exit);
        var errors = output.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        Assert.Contains(errors, l => l.Contains("Tollgate:RateLimits:Rules:global") && l.Contains('0'));
        Assert.Contains(errors, l => l.Contains("Tollgate:Backends:velma-2-stt-batch:Url") && l.Contains("ftp://models.internal"));
        Assert.Contains(errors, l => l.Contains("Tollgate:Backends:no-such-model") && l.Contains("no model is named 'no-such-model'"));
        Assert.Contains(errors, l => l.Contains("Tollgate:Jobs:Workers"));
        Assert.Contains(errors, l => l == "error: Tollgate:Dubbing:MonthlyCredits must be a whole number, e.g. 5 (was 'abc').");
        Assert.Contains(errors, l => l.Contains("ConnectionStrings:Tollgate"));
        Assert.DoesNotContain("s3cret-pw", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain("Unhandled", output);
    }

    [Fact]
    public async Task Verbose_AndDebugLogging_AddTheStackTrace()
    {
        var (exit, output) = await ServerProcess.RunToExitAsync(_directory, BadSettings, arguments: ["--verbose"]);
        Assert.Equal(2, exit);
        Assert.Contains("   at ", output);
        Assert.Contains("error: Tollgate:Dubbing:MonthlyCredits", output);

        var debug = new Dictionary<string, string>(BadSettings) { ["Logging__LogLevel__Default"] = "Debug" };
        (exit, output) = await ServerProcess.RunToExitAsync(_directory, debug);
        Assert.Equal(2, exit);
        Assert.Contains("   at ", output);
    }

    [Fact]
    public async Task APortAlreadyTaken_IsOneLine_ExitCode1()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (exit, output) = await ServerProcess.RunToExitAsync(_directory, urls: $"http://127.0.0.1:{port}");
        Assert.Equal(1, exit);
        var errors = output.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"error: Failed to bind to address http://127.0.0.1:{port}: address already in use."], errors);
        Assert.DoesNotContain("   at ", output);
        Assert.Contains("--verbose", output);
    }
}
