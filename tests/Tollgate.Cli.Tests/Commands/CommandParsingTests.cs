using System.CommandLine;
using Tollgate.Cli;
using Tollgate.Cli.Commands;
using Tollgate.Client.Admin;
using Tollgate.Infrastructure;

namespace Tollgate.Commands;

public sealed class CommandParsingTests
{
    [Theory]
    [InlineData("orgs create acme")]
    [InlineData("orgs list")]
    [InlineData("users create --org org_1 alice")]
    [InlineData("users list --org org_1")]
    [InlineData("keys create --org org_1 --user usr_1 --model velma-2-stt-batch:concurrency=5,hours=10")]
    [InlineData("keys create --org org_1 --user usr_1 --name ci --model a:concurrency=1,hours=1 --model b:concurrency=2,hours=2")]
    [InlineData("keys list --org org_1")]
    [InlineData("keys show key_1")]
    [InlineData("keys revoke key_1")]
    [InlineData("usage --org org_1")]
    [InlineData("usage --org org_1 --month 2025-02")]
    [InlineData("--url http://localhost:9 --json orgs list --admin-token t")]
    [InlineData("orgs list --url http://localhost:9 --admin-token t --json")]
    public void Parse_EveryCommand_HasNoErrors(string commandLine)
    {
        var parse = CliRunner.Parse(commandLine.Split(' '));
        Assert.Empty(parse.Errors);
    }

    [Theory]
    [InlineData("", "Required command was not provided")]
    [InlineData("orgs", "Required command was not provided")]
    [InlineData("orgs create", "Required argument missing")]
    [InlineData("orgs delete x", "Unrecognized command or argument 'delete'")]
    [InlineData("users create alice", "Option '--org' is required")]
    [InlineData("users list", "Option '--org' is required")]
    [InlineData("keys create --org o --user u", "Option '--model' is required")]
    [InlineData("keys create --org o --model a:concurrency=1,hours=1", "Option '--user' is required")]
    [InlineData("keys create --org o --user u --model a:concurrency=1", "hours is required")]
    [InlineData("keys create --org o --user u --model a:concurrency=1,hours=1 --model a:concurrency=2,hours=2", "a is given twice")]
    [InlineData("keys show", "Required argument missing")]
    [InlineData("usage", "give exactly one of --org <orgId>, --key <keyId> or --user <userId>")]
    [InlineData("usage --org o --month 2025-13", "--month: '2025-13' is not a month")]
    [InlineData("usage --org o --month 2025-1", "--month: '2025-1' is not a month")]
    public void Parse_Invalid_ReportsTheError(string commandLine, string expected)
    {
        var parse = CliRunner.Parse(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(parse.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_KeysCreate_GivesTheModelsObjectAndName()
    {
        var parse = CliRunner.Parse(
            "keys", "create", "--org", "org_1", "--user", "usr_1", "--name", "ci key",
            "--model", "velma-2-stt-batch:concurrency=5,hours=10", "--model", "velma-2-emotion-batch:concurrency=2,hours=0.5");
        Assert.Empty(parse.Errors);

        var models = parse.GetValue<IReadOnlyDictionary<string, ModelLimits>>("--model");
        Assert.NotNull(models);
        Assert.Equal(new ModelLimits(5, 10), models["velma-2-stt-batch"]);
        Assert.Equal(new ModelLimits(2, 0.5), models["velma-2-emotion-batch"]);
        Assert.Equal("ci key", parse.GetValue<string?>("--name"));
        Assert.Equal("org_1", parse.GetValue<string>("--org"));
        Assert.Equal("usr_1", parse.GetValue<string>("--user"));
    }

    [Fact]
    public void Parse_GlobalOptions_AreAcceptedBeforeAndAfterTheCommand()
    {
        // --admin-token belongs to the admin commands: it follows the command's name, anywhere after it.
        var before = CliRunner.Parse("--json", "--url", "http://h:1", "keys", "--admin-token", "tok", "list", "--org", "o");
        var after = CliRunner.Parse("keys", "list", "--org", "o", "--json", "--url", "http://h:1", "--admin-token", "tok");
        foreach (var parse in new[] { before, after })
        {
            Assert.Empty(parse.Errors);
            Assert.True(parse.GetValue<bool>("--json"));
            Assert.Equal("http://h:1", parse.GetValue<string?>("--url"));
            Assert.Equal("tok", parse.GetValue<string?>("--admin-token"));
        }
    }

    [Fact]
    public void Parse_ModelOption_TakesOneSpecPerOccurrence()
    {
        // A second bare value is not swallowed as another spec: keys create has no positional argument for it.
        var parse = CliRunner.Parse("keys", "create", "--org", "o", "--user", "u", "--model", "a:concurrency=1,hours=1", "b:concurrency=1,hours=1");
        Assert.Contains(parse.Errors, e => e.Message.Contains("Unrecognized command or argument 'b:concurrency=1,hours=1'", StringComparison.Ordinal));
    }

    [Fact]
    public void Help_DoesNotPrintTheAdminTokenFromTheEnvironment()
    {
        var root = CliApp.BuildRootCommand(new CliContext(TextWriter.Null, TextWriter.Null, null,
            CliRunner.Environment((GlobalOptions.AdminTokenVariable, "super-secret-token"))));
        using var help = new StringWriter();
        root.Parse(["keys", "--help"]).Invoke(new InvocationConfiguration { Output = help });
        Assert.Contains("TOLLGATE_ADMIN_TOKEN", help.ToString());
        Assert.DoesNotContain("super-secret-token", help.ToString());
    }
}
