using System.Text.Json;
using Tollgate.Client.Admin;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary><c>tollgate process</c> and <c>tollgate dub</c> end to end against the real server process.</summary>
[Collection(ServerProcessCollection.Name)]
public sealed class ProcessCommandTests(ServerProcessFixture fixture) : IDisposable
{
    private const string Model = "velma-2-stt-batch";
    private readonly string _root = Directory.CreateTempSubdirectory("tollgate-process-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Process_AFolder_OneResultPerFile_ProgressLinesAndASummary()
    {
        var (key, _) = await CreateKeyAsync(concurrency: 3, hours: 1);
        var inputs = Inputs(12, seconds: 0.5);
        var output = Path.Combine(_root, "out");

        var run = await CliRunner.RunAsync(["process", inputs, "--model", Model, "--concurrency", "3", "--out", output, "--key", key, "--url", Url]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("[12/12] ok", run.Stdout);
        Assert.Contains("remaining 0", run.Stdout);
        Assert.Contains("429s absorbed", run.Stdout);
        Assert.Contains("Processed in this run", run.Stdout);
        var results = Directory.GetFiles(output, "*.json");
        Assert.Equal(12, results.Length);
        foreach (var result in results)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(result));
            Assert.Equal(500, json.RootElement.GetProperty("duration_ms").GetInt64());
        }
        Assert.Empty(Directory.GetFiles(output, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Process_InterruptedHalfWay_RunAgain_EveryFileAnsweredOnce_TheLedgerChargedOnce()
    {
        var (key, orgId) = await CreateKeyAsync(concurrency: 2, hours: 1);
        // Enough files that the run is still going when the test sees the eighth answer and stops it (a run of 24 could
        // finish inside one look at the folder once the gate handed slots over at once).
        const int Files = 120;
        var inputs = Inputs(Files, seconds: 1);
        var output = Path.Combine(_root, "out");
        Directory.CreateDirectory(output);
        // A partial result of an earlier run cut off: never taken as done.
        File.WriteAllText(Path.Combine(output, ".f03.wav.json.partial"), "{\"text\":");
        string[] args = ["process", inputs, "--model", Model, "--concurrency", "2", "--out", output, "--key", key, "--url", Url, "--json"];

        using var interrupt = new CancellationTokenSource();
        var first = CliRunner.RunAsync(args, cancellationToken: interrupt.Token);
        while (Directory.GetFiles(output, "*.json").Length < 8 && !first.IsCompleted)
        {
            await Task.Delay(20);
        }
        await interrupt.CancelAsync();
        var stopped = await first;

        Assert.True(stopped.ExitCode == 130, stopped.ToString());
        using var firstSummary = JsonDocument.Parse(stopped.Stdout);
        Assert.Equal("interrupted", firstSummary.RootElement.GetProperty("stopped").GetString());
        var doneFirst = firstSummary.RootElement.GetProperty("done").GetInt32();
        Assert.InRange(doneFirst, 8, Files - 1);
        Assert.Equal(doneFirst, Directory.GetFiles(output, "*.json").Length);

        var second = await CliRunner.RunAsync(args);

        Assert.True(second.ExitCode == 0, second.ToString());
        using var summary = JsonDocument.Parse(second.Stdout);
        Assert.Equal(doneFirst, summary.RootElement.GetProperty("skipped").GetInt32());
        Assert.Equal(Files - doneFirst, summary.RootElement.GetProperty("done").GetInt32());
        Assert.Equal(Files, Directory.GetFiles(output, "*.json").Length);
        Assert.Empty(Directory.GetFiles(output, "*.partial", SearchOption.AllDirectories));
        // Files of 1 s: each charged exactly once over both runs (the ledger's milliseconds, not the rounded hours).
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", ServerProcess.AdminToken);
        using var usage = JsonDocument.Parse(await http.GetStringAsync($"admin/orgs/{orgId}/usage"));
        var used = usage.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == Model);
        Assert.Equal(Files * 1_000L, used.GetProperty("used_ms").GetInt64());
    }

    [Fact]
    public async Task Process_KilledHalfWay_RunAgain_EveryFileAnswered_NoPartialResultTakenAsDone()
    {
        var (key, orgId) = await CreateKeyAsync(concurrency: 2, hours: 1);
        const int Files = 120; // enough that the run is still going when the eighth answer is seen (as above)
        var inputs = Inputs(Files, seconds: 1);
        var output = Path.Combine(_root, "out");
        string[] args = ["process", inputs, "--model", Model, "--concurrency", "2", "--out", output, "--key", key, "--url", Url];

        using (var cli = System.Diagnostics.Process.Start(CliProcess(args))!)
        {
            cli.BeginOutputReadLine(); // drained, so a full pipe never holds the CLI up
            cli.BeginErrorReadLine();
            while (!cli.HasExited && (!Directory.Exists(output) || Directory.GetFiles(output, "*.json").Length < 8))
            {
                await Task.Delay(10);
            }
            cli.Kill(entireProcessTree: true); // SIGKILL: no chance to tidy up
            await cli.WaitForExitAsync();
        }
        var survivors = Directory.GetFiles(output, "*.json");
        Assert.InRange(survivors.Length, 8, Files - 1);

        var second = await CliRunner.RunAsync([.. args, "--json"]);

        Assert.True(second.ExitCode == 0, second.ToString());
        using var summary = JsonDocument.Parse(second.Stdout);
        Assert.Equal(survivors.Length, summary.RootElement.GetProperty("skipped").GetInt32());
        var results = Directory.GetFiles(output, "*.json");
        Assert.Equal(Files, results.Length);
        Assert.All(results, r => Assert.Equal(1000, JsonDocument.Parse(File.ReadAllText(r)).RootElement.GetProperty("duration_ms").GetInt64()));
        Assert.Empty(Directory.GetFiles(output, "*.partial", SearchOption.AllDirectories));
        // A kill can land after the server charged an answer and before it was saved: at most the files the workers
        // hold (twice the concurrency: 2 in flight, and as many answered whose results were being written while the
        // next files took their slots) are charged again; nothing else is.
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", ServerProcess.AdminToken);
        using var usage = JsonDocument.Parse(await http.GetStringAsync($"admin/orgs/{orgId}/usage"));
        var used = usage.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == Model);
        Assert.InRange(used.GetProperty("used_ms").GetInt64(), Files * 1_000L, Files * 1_000L + Tollgate.Cli.Commands.ProcessCommand.Workers(2) * 1_000);
    }

    /// <summary>The CLI as its own process (<c>dotnet tollgate.dll …</c>), from its build output beside this test's.</summary>
    private static System.Diagnostics.ProcessStartInfo CliProcess(string[] args)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string? cli = null;
        for (var dir = testOutput; dir is not null && cli is null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Tollgate.Cli", "bin", testOutput.Parent!.Name, testOutput.Name, "tollgate.dll");
            cli = File.Exists(candidate) ? candidate : null;
        }
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var start = new System.Diagnostics.ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli ?? throw new FileNotFoundException("tollgate.dll not found; build src/Tollgate.Cli first."));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("TOLLGATE_API_KEY");
        return start;
    }

    [Fact]
    public async Task Process_QuotaRunsOut_StopsWithExit3_TheResetTime_AndTheRestLeftForLater()
    {
        var (key, _) = await CreateKeyAsync(concurrency: 2, hours: 3.0 / 3600);
        var inputs = Inputs(8, seconds: 1);
        var output = Path.Combine(_root, "out");

        var run = await CliRunner.RunAsync(["process", inputs, "--model", Model, "--concurrency", "2", "--out", output, "--key", key, "--url", Url]);

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("monthly quota is used up", run.Stderr);
        Assert.Contains("resets at", run.Stderr);
        Assert.Contains("nothing was retried", run.Stderr);
        Assert.Equal(3, Directory.GetFiles(output, "*.json").Length);
    }

    [Fact]
    public async Task Process_AStreamingModel_IsRefusedBeforeAnyRequest_NamingTheStreamCommand()
    {
        var inputs = Inputs(1, seconds: 0.5);
        var run = await CliRunner.RunAsync(["process", inputs, "--model", "velma-2-stt-streaming", "--key", "tgk_unused", "--url", "http://127.0.0.1:9/"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("tollgate stream", run.Stderr);
    }

    [Fact]
    public async Task Batch_IsAnAliasOfProcess()
    {
        var (key, _) = await CreateKeyAsync(concurrency: 2, hours: 1);
        var inputs = Inputs(2, seconds: 0.5);
        var run = await CliRunner.RunAsync(["batch", inputs, "--model", Model, "--out", Path.Combine(_root, "out"), "--key", key, "--url", Url]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, Directory.GetFiles(Path.Combine(_root, "out"), "*.json").Length);
    }

    [Fact]
    public async Task Dub_Files_ThroughTheWholeWorkflow_OneDubbedFileEach_ThenSkipped()
    {
        var (key, _) = await CreateKeyAsync(concurrency: 2, hours: 1, model: "velma-2-batch");
        var inputs = Inputs(3, seconds: 1);
        var output = Path.Combine(_root, "dubs");

        var run = await CliRunner.RunAsync(["dub", inputs, "--target-language", "es", "--out", output, "--key", key, "--url", Url]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var dubbed = Directory.GetFiles(output, "*.es.wav");
        Assert.Equal(3, dubbed.Length);
        Assert.All(dubbed, f => Assert.True(new FileInfo(f).Length > 44));
        var again = await CliRunner.RunAsync(["dub", inputs, "--target-language", "es", "--out", output, "--key", key, "--url", Url, "--json"]);
        using var summary = JsonDocument.Parse(again.Stdout);
        Assert.Equal(3, summary.RootElement.GetProperty("skipped").GetInt32());
        Assert.Equal(0, summary.RootElement.GetProperty("requests").GetInt64());
    }

    private string Url => fixture.Server.BaseAddress.ToString();

    private string Inputs(int count, double seconds)
    {
        var folder = Path.Combine(_root, "in");
        Directory.CreateDirectory(folder);
        var audio = TestAudio.Wav(seconds);
        for (var i = 0; i < count; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"f{i:00}.wav"), audio);
        }
        return folder;
    }

    private async Task<(string Key, string OrgId)> CreateKeyAsync(int concurrency, double hours, string model = Model)
    {
        using var admin = new TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("process");
        var user = await admin.CreateUserAsync(org.Id, "fay");
        var key = await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, ModelLimits> { [model] = new(concurrency, hours) });
        return (key.Key, org.Id);
    }
}
