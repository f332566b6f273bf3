using System.Net;
using System.Net.Sockets;
using Tollgate.Cli;
using Tollgate.Infrastructure;

namespace Tollgate.Commands;

/// <summary>Exit codes and messages of runs that never reach a server.</summary>
public sealed class CliAppTests
{
    [Fact]
    public async Task Run_Help_PrintsUsageAndExitsZero()
    {
        var run = await CliRunner.RunAsync(["--help"]);
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        foreach (var command in new[] { "orgs", "users", "keys", "usage", "process", "dub", "stream", "--url", "--json", "Exit codes:" })
        {
            Assert.Contains(command, run.Stdout);
        }
        Assert.Empty(run.Stderr);
    }

    [Theory]
    [InlineData("orgs", true)]
    [InlineData("orgs list", true)]
    [InlineData("orgs get", true)]
    [InlineData("users disable", true)]
    [InlineData("keys create", true)]
    [InlineData("keys rotate", true)]
    [InlineData("usage", true)]
    [InlineData("usage export", true)]
    [InlineData("admin-tokens list", true)]
    [InlineData("process", false)]
    [InlineData("batch", false)]
    [InlineData("dub", false)]
    [InlineData("stream", false)]
    public async Task Run_EveryCommandsHelp_ListsItsExitCodes_AndTheAdminTokenOnlyWhereItIsUsed(string command, bool takesAdminToken)
    {
        var run = await CliRunner.RunAsync([.. command.Split(' '), "--help"]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("Exit codes: 0 ", run.Stdout);
        Assert.Contains("2 bad command line", run.Stdout);
        Assert.Equal(takesAdminToken, run.Stdout.Contains("--admin-token", StringComparison.Ordinal));
        Assert.Equal(!takesAdminToken || command == "usage", run.Stdout.Contains("--key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_KeysCreateHelp_ShowsTheSpecSyntax()
    {
        var run = await CliRunner.RunAsync(["keys", "create", "--help"]);
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("<model>:concurrency=<n>,hours=<h>", run.Stdout);
    }

    [Theory]
    [InlineData("keys")]
    [InlineData("orgs frobnicate")]
    [InlineData("keys create --org o --user u --model velma-2-stt-batch:concurrency=5 --admin-token t")]
    [InlineData("usage --org o --month 2025/01 --admin-token t")]
    public async Task Run_UsageError_ExitsTwoWithTheErrorAndAHintOnStderr(string commandLine)
    {
        var run = await CliRunner.RunAsync(commandLine.Split(' '));
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.StartsWith("error: ", run.Stderr);
        Assert.Contains("--help' for usage.", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Run_MalformedModelSpec_NamesTheProblem()
    {
        var run = await CliRunner.RunAsync(["keys", "create", "--org", "o", "--user", "u", "--model", "velma-2-stt-batch:concurrency=5", "--admin-token", "t"]);
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("'velma-2-stt-batch:concurrency=5': hours is required; expected <model>:concurrency=<n>,hours=<h>", run.Stderr);
        Assert.Contains("Run 'tollgate keys create --help' for usage.", run.Stderr);
    }

    [Fact]
    public async Task Run_NoAdminToken_ExitsTwoBeforeAnyRequest()
    {
        var run = await CliRunner.RunAsync(["orgs", "list", "--url", "http://127.0.0.1:9"]);
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("No admin token: pass --admin-token <token> or set TOLLGATE_ADMIN_TOKEN.", run.Stderr);
    }

    [Fact]
    public async Task Run_BadUrlFromTheEnvironment_ExitsTwo()
    {
        var run = await CliRunner.RunAsync(["orgs", "list"], CliRunner.Environment(
            (GlobalOptions.UrlVariable, "ftp://example"), (GlobalOptions.AdminTokenVariable, "t")));
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("--url: 'ftp://example' is not an http:// or https:// URL.", run.Stderr);
    }

    [Fact]
    public async Task Run_NothingListening_ExitsOneSayingWhere()
    {
        var port = ClosedPort();
        var run = await CliRunner.RunAsync(["orgs", "list"], CliRunner.Environment(
            (GlobalOptions.UrlVariable, $"http://127.0.0.1:{port}"), (GlobalOptions.AdminTokenVariable, "t")));
        Assert.Equal(ExitCodes.ApiError, run.ExitCode);
        Assert.Contains($"error: cannot reach Tollgate at http://127.0.0.1:{port}/", run.Stderr);
    }

    /// <summary>A loopback port nothing listens on (just released by us).</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
