using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Platform;

/// <summary>Multi-file jobs, expiry on a fake clock, per-file failures, polling hints and a restart mid-job, on a real server.</summary>
public sealed class PlatformJobTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly HoldingPlatformGate _gate = new() { Holding = false };
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync(services: s =>
    {
        s.AddSingleton<TimeProvider>(_time);
        s.AddSingleton<IPlatformProcessingGate>(_gate);
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId) =>
        await _server.Services.GetRequiredService<IUsageLedger>().ChargesAsync(orgId, new MonthPeriod(2026, 5));

    private static string Id(JsonObject answer) => answer["job_id"]!.GetValue<string>();

    [Fact]
    public async Task AMultiFileJob_WaitsPendingUntilFinalized_ThenProcessesEveryFile()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        var flags = new JsonObject { ["emotion_annotation"] = true };
        var (s1, first) = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), flags: flags, finalize: false, filename: "part-1.wav"));
        Assert.Equal(HttpStatusCode.OK, s1);
        var jobId = Id(first);
        Assert.Equal(("pending", 2, 1), (first["status"]!.GetValue<string>(), first["api_calls_charged"]!.GetValue<int>(), first["files_received"]!.GetValue<int>()));
        Assert.Equal("2026-05-05T12:00:00.000Z", first["expires_at"]!.GetValue<string>());

        var (pollStatus, pending, response) = await client.StatusAsync(jobId);
        Assert.Equal(HttpStatusCode.OK, pollStatus);
        Assert.Equal("3", response.Headers.GetValues("Retry-After").Single());
        response.Dispose();
        Assert.Equal(("pending", 3, "pending"), (pending["status"]!.GetValue<string>(), pending["retry_after_seconds"]!.GetValue<int>(),
            pending["files"]![0]!["status"]!.GetValue<string>()));
        Assert.Null(pending["transcript"]);

        // Flags are the first upload's; a different set is refused, and the same (or none) is taken.
        PlatformClient.AssertError(HttpStatusCode.UnprocessableEntity, "flags_mismatch",
            await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), jobId: jobId, flags: new JsonObject())));
        var (s2, second) = await client.PostMultipartAsync(TestAudio.Encode("mp3", 2.0, "-c:a", "libmp3lame"), "part-2.mp3",
            new Dictionary<string, string> { ["job_id"] = jobId });
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal(("pending", 2), (second["status"]!.GetValue<string>(), second["files_received"]!.GetValue<int>()));
        var (s3, last) = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), jobId: jobId, flags: flags, finalize: true, filename: "part-3.wav"));
        Assert.Equal(HttpStatusCode.OK, s3);
        Assert.Equal(("processing", 3, 2), (last["status"]!.GetValue<string>(), last["files_received"]!.GetValue<int>(), last["file_index"]!.GetValue<int>()));

        var done = await client.WaitForAsync(jobId, "completed");
        var files = done["files"]!.AsArray();
        Assert.Equal(new[] { "part-1.wav", "part-2.mp3", "part-3.wav" }, files.Select(f => f!["filename"]!.GetValue<string>()));
        Assert.All(files, f => Assert.Equal(("completed", 2), (f!["status"]!.GetValue<string>(), f["api_calls_charged"]!.GetValue<int>())));
        Assert.Equal(6, done["api_calls_charged"]!.GetValue<int>());
        Assert.NotNull(done["finalized_at"]);
        Assert.Null(done["expires_at"]);
        var charges = await ChargesAsync(key.OrgId);
        Assert.Equal(6, charges.Count);
        Assert.Equal(2 * (3000 + files[1]!["duration_ms"]!.GetValue<long>() + 3000), charges.Sum(c => c.Milliseconds));

        // A finalized job takes no more files; nothing changes.
        PlatformClient.AssertError(HttpStatusCode.Conflict, "job_not_open",
            await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), jobId: jobId, finalize: true)));
        var (_, after, r) = await client.StatusAsync(jobId);
        r.Dispose();
        Assert.Equal(3, after["files"]!.AsArray().Count);
        Assert.Equal(6, (await ChargesAsync(key.OrgId)).Count);
    }

    [Fact]
    public async Task PostingToAnUnknownJob_Is404_AndStoresNothing()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        PlatformClient.AssertError(HttpStatusCode.NotFound, "job_not_found",
            await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), jobId: Guid.NewGuid().ToString(), finalize: true)));
        var platform = Path.Combine(_server.DataDirectory, "platform");
        Assert.True(!Directory.Exists(platform) || !Directory.EnumerateFiles(platform, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task AJobNeverFinalized_ExpiresAfter24Hours_ReadsFailed_AndItsFilesAreDeleted()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        var read = Id((await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), finalize: false))).Body);
        var swept = Id((await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), finalize: false))).Body);
        var blobs = Path.Combine(_server.DataDirectory, "platform");
        Assert.Equal(2, Directory.GetFiles(blobs, "*", SearchOption.AllDirectories).Length);

        _time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        Assert.Equal("pending", (await client.WaitForAsync(read, "pending"))["status"]!.GetValue<string>());
        _time.Advance(TimeSpan.FromSeconds(1));

        var expired = await client.WaitForAsync(read, "failed");
        Assert.Equal("job_expired", expired["error"]!["code"]!.GetValue<string>());
        Assert.Null(expired["retry_after_seconds"]);
        PlatformClient.AssertError(HttpStatusCode.Conflict, "job_not_open",
            await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), jobId: read, finalize: true)));

        // The other one is expired by the sweep, without anyone reading it.
        var store = _server.Services.GetRequiredService<IPlatformStore>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await store.GetJobAsync(swept))!.Status != PlatformJobStatus.Failed)
        {
            Assert.True(DateTime.UtcNow < deadline, "the sweep never expired the job");
            _time.Advance(TimeSpan.FromSeconds(60));
            await Task.Delay(20);
        }
        Assert.Empty(Directory.GetFiles(blobs, "*", SearchOption.AllDirectories));
        Assert.Empty(await ChargesAsync(key.OrgId));
    }

    [Fact]
    public async Task AFileOverTheQuota_FailsAlone_ItsSiblingsComplete_AndOnlyTheyAreCharged()
    {
        // 5 s of transcription: each 3 s file fits at submission, but only the first fits once it is charged.
        var key = await _server.CreateKeyAsync(PlatformClient.Transcription, hours: 5000 / 3_600_000d);
        using var client = new PlatformClient(_server, key);
        var jobId = Id((await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), finalize: false))).Body);
        var (status, _) = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), jobId: jobId, finalize: true));
        Assert.Equal(HttpStatusCode.OK, status);

        var done = await client.WaitForAsync(jobId, "completed");
        var files = done["files"]!.AsArray();
        Assert.Equal(("completed", 1), (files[0]!["status"]!.GetValue<string>(), files[0]!["api_calls_charged"]!.GetValue<int>()));
        Assert.Equal(("failed", 0, "quota_exceeded"), (files[1]!["status"]!.GetValue<string>(), files[1]!["api_calls_charged"]!.GetValue<int>(),
            files[1]!["error"]!["code"]!.GetValue<string>()));
        Assert.Null(files[1]!["result"]);
        Assert.Equal(1, done["api_calls_charged"]!.GetValue<int>());
        Assert.Equal(3000, Assert.Single(await ChargesAsync(key.OrgId)).Milliseconds);

        // With 2 s left, a new 3 s file is refused at once, as the Models API would.
        PlatformClient.AssertError(HttpStatusCode.Forbidden, "quota_exceeded", await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav())));
    }

    [Fact]
    public async Task ARestartInTheMiddleOfAJob_ResumesIt_AndChargesEachFileOnce()
    {
        _gate.Holding = true;
        var key = await PlatformClient.FullKeyAsync(_server);
        string jobId;
        using (var client = new PlatformClient(_server, key))
        {
            jobId = Id((await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), flags: new JsonObject { ["demographics"] = true }))).Body);
            Assert.Equal(jobId, await _gate.Reached.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("processing", (await client.WaitForAsync(jobId, "processing"))["status"]!.GetValue<string>());
        }
        _gate.Holding = false;
        _server = await _server.RestartAsync();
        using var again = new PlatformClient(_server, key);
        var done = await again.WaitForAsync(jobId, "completed");
        Assert.Equal(2, done["api_calls_charged"]!.GetValue<int>());
        var charges = await ChargesAsync(key.OrgId);
        Assert.Equal(2, charges.Count);
        Assert.All(charges, c => Assert.Equal(3000, c.Milliseconds));
    }
}
