using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Infrastructure;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Platform;

/// <summary>
/// The realtime flow driven by the real Pipecat web client (<c>@pipecat-ai/client-js</c> 1.13.1 with
/// <c>@pipecat-ai/websocket-transport</c> 1.7.1, unmodified) in Debian's headless Chromium, its microphone a fake device
/// fed from a WAV file (<c>tests/pipecat/run.mjs</c>; <c>scripts/test.sh</c> installs chromium and the npm packages).
/// </summary>
public sealed class PipecatClientTests : IAsyncLifetime
{
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Harness()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "scripts", "test.sh")))
        {
            directory = directory.Parent;
        }
        var harness = Path.Combine(directory?.FullName ?? "", "tests", "pipecat");
        Assert.True(Directory.Exists(Path.Combine(harness, "node_modules", "@pipecat-ai", "client-js")) && File.Exists("/usr/bin/chromium"),
            "The Pipecat harness is not installed: run scripts/test.sh (it installs chromium and runs npm ci in tests/pipecat).");
        return harness;
    }

    [Fact]
    public async Task AnUnmodifiedPipecatClient_ReachesReady_GetsTranscriptions_AndIsChargedTheAudioItSent()
    {
        var harness = Harness();
        var key = await _server.CreateKeyAsync("velma-2-stt-streaming");
        using var client = new PlatformClient(_server, key);
        var (status, answer) = await client.PostJsonAsync(new JsonObject { ["submission_type"] = "realtime_websocket" });
        Assert.Equal(HttpStatusCode.OK, status);
        var jobId = answer["job_id"]!.GetValue<string>();
        // Speech-like bursts with silence after each, so utterances end (and are sent) while the microphone streams.
        var wav = Path.Combine(_server.DataDirectory, "microphone.wav");
        await File.WriteAllBytesAsync(wav, TestAudio.Wav(TestAudio.Samples(16_000, 3.0, (0.3, 1.2), (1.8, 2.4)), 16_000));

        var start = new ProcessStartInfo("node") { WorkingDirectory = harness, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "run.mjs", answer["realtime_url"]!.GetValue<string>(), wav, "5" })
        {
            start.ArgumentList.Add(arg);
        }
        using var node = Process.Start(start)!;
        var stderr = node.StandardError.ReadToEndAsync();
        var stdout = await node.StandardOutput.ReadToEndAsync();
        await node.WaitForExitAsync();
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        Assert.True(node.ExitCode == 0 && line.StartsWith('{'), $"node exited {node.ExitCode}: {stdout}\n{await stderr}");
        var seen = JsonNode.Parse(line)!.AsObject();

        Assert.Equal("ready", seen["stateAfterConnect"]!.GetValue<string>());
        Assert.Contains("ready", seen["states"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("2.1.0", seen["botReady"]!["version"]!.GetValue<string>());
        Assert.Empty(seen["errors"]!.AsArray());
        var transcripts = seen["transcripts"]!.AsArray();
        Assert.NotEmpty(transcripts);
        Assert.All(transcripts, t => Assert.Equal("user", t!["user_id"]!.GetValue<string>()));

        var done = await client.WaitForAsync(jobId, "completed");
        var sentMs = seen["audioBytes"]!.GetValue<long>() / 2 * 1000 / 16_000;
        Assert.True(sentMs > 1000, $"the client sent only {sentMs} ms of audio");
        Assert.Equal(sentMs, done["duration_ms"]!.GetValue<long>());
        // Every utterance the client was sent is in the job's result (the last may end only when the client leaves).
        Assert.True(done["files"]![0]!["result"]!["utterances"]!.AsArray().Count >= transcripts.Count);
        var charge = Assert.Single(await _server.Services.GetRequiredService<IUsageLedger>().ChargesAsync(key.OrgId, MonthPeriod.Current(TimeProvider.System)));
        Assert.Equal(("velma-2-stt-streaming", sentMs), (charge.Model, charge.Milliseconds));
    }
}
