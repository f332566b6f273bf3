using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Cli;
using Tollgate.Cli.Commands;
using Tollgate.Client.Admin;
using Tollgate.Client.Models;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary>
/// <c>tollgate usage export</c> against the real server process after real metered calls: CSV and CloudEvents, to
/// standard output and to a file, hold every row once, and their totals are the usage report's to the millisecond.
/// </summary>
[Collection(ServerProcessCollection.Name)]
public sealed class UsageExportCommandTests(ServerProcessFixture fixture)
{
    private const string Model = "velma-2-stt-batch";

    private readonly Func<string, string?> _environment = CliRunner.Environment(
        (GlobalOptions.UrlVariable, fixture.Server.BaseAddress.ToString()),
        (GlobalOptions.AdminTokenVariable, ServerProcess.AdminToken));

    /// <summary>An organization with two users whose keys made seven calls of odd lengths; returns it and the month they were charged to.</summary>
    private async Task<(string OrgId, string Month, int Calls)> MeteredOrganizationAsync()
    {
        using var admin = new TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("export " + Guid.NewGuid().ToString("N")[..6]);
        double[] seconds = [1.234, 0.5, 2.017, 0.75, 1.001, 0.613, 0.25];
        var keys = new List<string>();
        foreach (var name in new[] { "dana", "eli" })
        {
            var user = await admin.CreateUserAsync(org.Id, name);
            keys.Add((await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, ModelLimits> { [Model] = new(4, 1) })).Key);
        }
        for (var i = 0; i < seconds.Length; i++)
        {
            using var client = new TollgateModelsClient(fixture.Server.BaseAddress, keys[i % 2]);
            using var file = new MemoryStream(TestAudio.Wav(seconds[i]));
            using var _ = await client.PostBatchAsync(Model, file, "clip.wav");
        }
        var report = await admin.GetUsageAsync(org.Id);
        return (org.Id, report.Month, seconds.Length);
    }

    /// <summary>The usage report's exact figures for the model (the SDK's record shows hours; the milliseconds are in the JSON).</summary>
    private async Task<(long UsedMs, long Charges)> ReportedAsync(string orgId, string month)
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);
        var report = JsonNode.Parse(await http.GetStringAsync($"admin/orgs/{orgId}/usage?month={month}"))!;
        var model = report["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == Model)!;
        return (model["used_ms"]!.GetValue<long>(), model["charges"]!.GetValue<long>());
    }

    [Fact]
    public async Task Csv_ToStandardOutput_InPagesOfTwo_HasAHeaderAndEveryRow_AndTheReportsTotal()
    {
        var (orgId, month, calls) = await MeteredOrganizationAsync();

        var run = await RunOkAsync("usage", "export", "--org", orgId, "--month", month, "--format", "csv", "--page-size", "2");

        Assert.EndsWith("\r\n", run.Stdout);
        var lines = run.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(',', UsageExportCommand.CsvHeader), lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(calls, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(8, r.Length);
            Assert.Equal(orgId, r[2]);
            Assert.Equal(Model, r[5]);
            Assert.Equal(month, r[7]);
        });
        Assert.Equal(calls, rows.Select(r => r[0]).Distinct().Count());
        Assert.Equal(2, rows.Select(r => r[3]).Distinct().Count());
        Assert.Equal(rows.Select(r => r[1]).Order(StringComparer.Ordinal), rows.Select(r => r[1]));
        var (usedMs, charges) = await ReportedAsync(orgId, month);
        Assert.Equal(usedMs, rows.Sum(r => long.Parse(r[6], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(charges, rows.Count);
        // Each clip is charged its whole milliseconds (the clips here are built by truncating to whole samples).
        Assert.InRange(usedMs, 1234 + 500 + 2017 + 750 + 1001 + 613 + 250 - 7, 1234 + 500 + 2017 + 750 + 1001 + 613 + 250);
    }

    [Fact]
    public async Task CloudEvents_ToAFile_AreOneBatchOfTheSameRows_WithTheReportsTotal()
    {
        var (orgId, month, calls) = await MeteredOrganizationAsync();
        var directory = Directory.CreateTempSubdirectory("tollgate-export-");
        try
        {
            var path = Path.Combine(directory.FullName, "may.json");
            var run = await RunOkAsync("usage", "export", "--org", orgId, "--month", month, "--format", "cloudevents", "--out", path, "--page-size", "3");
            Assert.Contains($"Wrote {calls} rows to {path}.", run.Stdout);
            Assert.Equal([path], Directory.GetFiles(directory.FullName));

            var batch = JsonDocument.Parse(await File.ReadAllTextAsync(path)).RootElement;
            Assert.Equal(JsonValueKind.Array, batch.ValueKind);
            var events = batch.EnumerateArray().ToList();
            Assert.Equal(calls, events.Count);
            Assert.All(events, e =>
            {
                Assert.Equal("1.0", e.GetProperty("specversion").GetString());
                Assert.Equal("com.tollgate.usage.audio", e.GetProperty("type").GetString());
                Assert.Equal($"/tollgate/orgs/{orgId}", e.GetProperty("source").GetString());
                Assert.Equal(e.GetProperty("subject").GetString(), e.GetProperty("data").GetProperty("user_id").GetString());
            });
            Assert.Equal((await ReportedAsync(orgId, month)).UsedMs, events.Sum(e => e.GetProperty("data").GetProperty("milliseconds").GetInt64()));

            var csv = await RunOkAsync("usage", "export", "--org", orgId, "--month", month);
            var csvIds = csv.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]);
            Assert.Equal(csvIds, events.Select(e => e.GetProperty("id").GetString()));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AnEmptyMonth_IsAHeaderOrAnEmptyBatch()
    {
        var (orgId, _, _) = await MeteredOrganizationAsync();
        Assert.Equal(string.Join(',', UsageExportCommand.CsvHeader) + "\r\n",
            (await RunOkAsync("usage", "export", "--org", orgId, "--month", "2001-01")).Stdout);
        Assert.Equal("[]\n", (await RunOkAsync("usage", "export", "--org", orgId, "--month", "2001-01", "--format", "cloudevents")).Stdout);
    }

    [Fact]
    public async Task AnUnknownOrganization_ExitsOne_AndLeavesNoFile()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-export-");
        try
        {
            var path = Path.Combine(directory.FullName, "out.csv");
            var run = await CliRunner.RunAsync(["usage", "export", "--org", "org_nope", "--month", "2026-05", "--out", path], _environment);
            Assert.Equal(ExitCodes.ApiError, run.ExitCode);
            Assert.Contains("(not_found) [HTTP 404]", run.Stderr);
            Assert.Empty(Directory.GetFileSystemEntries(directory.FullName));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AFieldThatNeedsIt_IsQuotedAsRfc4180Says()
    {
        var writer = new StringWriter();
        await UsageExportCommand.WriteCsvAsync(Rows(new UsageEvent("req_1", "org_1", "usr_1", "key_1", "a,\"b\"\nc", 5, "2026-05",
            new DateTimeOffset(2026, 5, 1, 0, 0, 0, 7, TimeSpan.Zero))), writer);
        Assert.Equal(string.Join(',', UsageExportCommand.CsvHeader) + "\r\n" + "req_1,2026-05-01T00:00:00.007Z,org_1,usr_1,key_1,\"a,\"\"b\"\"\nc\",5,2026-05\r\n",
            writer.ToString());
    }

    private static async IAsyncEnumerable<UsageEvent> Rows(params UsageEvent[] rows)
    {
        foreach (var row in rows)
        {
            await Task.Yield();
            yield return row;
        }
    }

    [Theory]
    [InlineData("usage export --org o --month 2026-05", "")]
    [InlineData("usage export --org o --month 2026-05 --format cloudevents --out f.json --page-size 10", "")]
    [InlineData("usage export --org o", "Option '--month' is required")]
    [InlineData("usage export --month 2026-05", "Option '--org' is required")]
    [InlineData("usage export --org o --month 2026-5", "is not a month")]
    [InlineData("usage export --org o --month 2026-05 --format xml", "xml")]
    [InlineData("usage export --org o --month 2026-05 --page-size 0", "--page-size")]
    public void Parse_ChecksTheOptions(string commandLine, string error)
    {
        var parse = CliRunner.Parse(commandLine.Split(' '));
        if (error.Length == 0)
        {
            Assert.Empty(parse.Errors);
        }
        else
        {
            Assert.Contains(parse.Errors, e => e.Message.Contains(error, StringComparison.Ordinal));
        }
    }

    private async Task<CliRun> RunOkAsync(params string[] args)
    {
        var run = await CliRunner.RunAsync(args, _environment);
        Assert.True(run.ExitCode == ExitCodes.Ok, $"tollgate {string.Join(' ', args)} → {run}");
        return run;
    }
}
