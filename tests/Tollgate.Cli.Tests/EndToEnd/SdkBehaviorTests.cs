using System.Collections.Concurrent;
using System.Diagnostics;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Behavior;
using Tollgate.Client.Bulk;
using Tollgate.Client.Dubbing;
using Tollgate.Client.Models;
using Tollgate.Client.Platform;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary>A server process that sends the IETF rate-limit fields, so the SDK's gate can learn a key's concurrency.</summary>
public sealed class IetfServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Tollgate__RateLimits__Headers"] = "Both" });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// The SDK's behaviour against the real server process: the concurrency gate, a used-up quota, a revoked key, and
/// polling of dubs and Platform jobs. Limits are set tight on each key so every path is exercised.
/// </summary>
public sealed class SdkBehaviorTests(IetfServerFixture fixture) : IClassFixture<IetfServerFixture>
{
    private const string Model = "velma-2-stt-batch";

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task Backlog_200FilesAgainstAConcurrencyOf5_NoFailureAndNo429_TheGateLearnsTheLimit()
    {
        var key = await CreateKeyAsync(new() { [Model] = new(5, 10) });
        using var client = new TollgateModelsClient(Options(key.Key));
        var audio = TestAudio.Wav(0.25);
        var failures = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            try
            {
                using var answer = await client.PostBatchAsync(Model, new MemoryStream(audio), $"f{i}.wav", cancellationToken: ct);
            }
            catch (TollgateApiException)
            {
                Interlocked.Increment(ref failures);
            }
        });

        var stats = client.Behavior!.Statistics;
        Assert.Equal(0, failures);
        Assert.Equal((5, ConcurrencyLimitSource.Learned), client.Behavior.ConcurrencyOf(Model));
        Assert.Equal(0, stats.RateLimited);
        // The account read that sized the gate, then one request per file.
        Assert.Equal(201, stats.Requests);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SixUploadsAgainstAConcurrencyOf5_TheGateHoldsTheSixth_WithoutItTheServerRefusesIt(bool gated)
    {
        var key = await CreateKeyAsync(new() { [Model] = new(5, 10) });
        var options = Options(key.Key);
        options.MaxConcurrency = gated ? 5 : 6;
        options.Retry = TollgateRetryOptions.None;
        using var client = new TollgateModelsClient(options);
        var release = new TaskCompletionSource();
        var audio = TestAudio.Wav(5);

        // Each upload's body is held back: the server admits a request at its headers, so the five first hold every slot
        // (the first 64 KB go out with the headers; a smaller start can sit in HttpClient's write buffer unsent).
        var uploads = Enumerable.Range(0, 6).Select(async i =>
        {
            try
            {
                using var answer = await client.PostBatchAsync(Model, new HeldStream(audio, release.Task), $"f{i}.wav");
                return "ok";
            }
            catch (TollgateRateLimitedException ex)
            {
                return ex.Code;
            }
        }).ToList();
        var stats = client.Behavior!.Statistics;
        for (var i = 0; i < 300 && stats.RateLimited == 0 && (gated ? client.Behavior.InFlight(Model) < 5 : true); i++)
        {
            await Task.Delay(10);
        }
        if (gated)
        {
            await Task.Delay(300); // time for a sixth request to go out, were it going to
        }
        // The premise, from the server's side: five uploads hold its five slots while their bodies are held back.
        Assert.Equal(5, await ServerInFlightAsync(key.OrgId, expected: 5));
        release.SetResult();
        var outcomes = await Task.WhenAll(uploads);

        if (gated)
        {
            Assert.All(outcomes, o => Assert.Equal("ok", o));
            Assert.Equal(0, stats.RateLimited);
        }
        else
        {
            Assert.Equal(5, outcomes.Count(o => o == "ok"));
            Assert.Equal(1, outcomes.Count(o => o == "concurrency_limit"));
            Assert.Equal(1, stats.RateLimited);
        }
    }

    /// <summary>A body that yields its first bytes (so the headers go out) and the rest only when released (not seekable: sent once).</summary>
    private sealed class HeldStream(byte[] data, Task released) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        private bool _started;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_started)
            {
                _started = true;
                return await _inner.ReadAsync(buffer[..Math.Min(buffer.Length, 64 * 1024)], cancellationToken);
            }
            await released.WaitAsync(cancellationToken);
            return await _inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    [Fact]
    public async Task Backlog_QuotaRunsOut_TheQueueStopsWithTheTypedExceptionAndNothingIsRetried()
    {
        // 5 s of audio a month; 1 s files: five fit.
        var key = await CreateKeyAsync(new() { [Model] = new(3, 5.0 / 3600) });
        using var client = new TollgateModelsClient(Options(key.Key));
        var audio = TestAudio.Wav(1);
        var answered = 0;
        await using var queue = new TollgateWorkQueue<int>(async (i, ct) =>
        {
            using var answer = await client.PostBatchAsync(Model, new MemoryStream(audio), $"f{i}.wav", cancellationToken: ct);
            Interlocked.Increment(ref answered);
        }, new TollgateWorkQueueOptions { Workers = 3, Capacity = 4 });

        var enqueued = 0;
        for (var i = 0; i < 30 && await queue.EnqueueAsync(i); i++)
        {
            enqueued++;
        }
        var reason = await queue.CompleteAsync();

        var quota = Assert.IsType<TollgateQuotaExceededException>(reason);
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1), quota.ResetsAt);
        Assert.Equal(5, answered);
        Assert.True(enqueued < 30, "back-pressure and the stop: the producer learned the queue had stopped");
        var stats = client.Behavior!.Statistics;
        // No 429 and quota refusals are never retried: every file was sent once at most; after the stop, only what
        // was already on its way (at most one per worker) went out.
        Assert.Equal(0, stats.RateLimited);
        Assert.InRange(queue.Failed, 1, 3);
        Assert.InRange(stats.Requests, answered + queue.Failed, answered + queue.Failed + 3);
    }

    [Fact]
    public async Task RevokedKey_FailsAtOnce_OneRequest()
    {
        using var admin = new TollgateAdminClient(Server.BaseAddress, ServerProcess.AdminToken);
        var key = await CreateKeyAsync(new() { [Model] = new(2, 1) });
        await admin.RevokeKeyAsync(key.Id);
        using var client = new TollgateModelsClient(Options(key.Key));

        var ex = await Assert.ThrowsAsync<TollgateAuthenticationException>(() => client.PostBatchAsync(Model, new MemoryStream(TestAudio.Wav(1)), "a.wav"));

        Assert.Equal("revoked_api_key", ex.Code);
        Assert.Equal(1, client.Behavior!.Statistics.Requests);
    }

    [Fact]
    public async Task FiftyDubs_ThroughTheWholeWorkflow_NoDubIsPolledMoreThanOncePer3Seconds()
    {
        var key = await CreateKeyAsync(new() { ["velma-2-batch"] = new(5, 10) });
        var recorder = new Recorder(new SocketsHttpHandler());
        var options = Options(key.Key);
        using var client = new TollgateDubbingClient(options, new TollgateClientBehavior(options), recorder);
        var input = TestAudio.Wav(1);

        Dub[] dubs;
        try
        {
            dubs = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
            {
                using var output = new MemoryStream();
                var dub = await client.DubAsync(new MemoryStream(input), $"talk{i}.wav", new NewDub("es"), output);
                Assert.True(output.Length > 44, "the rendered WAV was downloaded");
                return dub;
            }));
        }
        catch (TollgateApiException ex) when ((int)ex.StatusCode >= 500)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\nThe server's log:\n{Server.Output}");
        }

        Assert.All(dubs, d => Assert.Equal("done", d.Status));
        foreach (var dub in dubs)
        {
            var reads = recorder.Times("GET", $"/v1/me/dubs/{dub.DubId}");
            Assert.NotEmpty(reads);
            for (var i = 1; i < reads.Count; i++)
            {
                Assert.True(reads[i] - reads[i - 1] >= TimeSpan.FromSeconds(2.99), $"dub {dub.DubId} polled {reads[i] - reads[i - 1]} after the previous read");
            }
        }
        Assert.Equal(0, client.Behavior!.Statistics.RateLimited);
    }

    [Fact]
    public async Task Platform_SingleAndMultiFileJobs_CompleteAndArePolledNoFasterThanEvery3Seconds()
    {
        var key = await CreateKeyAsync(new() { [Model] = new(5, 10), ["velma-2-stt-streaming"] = new(1, 1) });
        var recorder = new Recorder(new SocketsHttpHandler());
        var options = Options(key.Key);
        options.AccountId = key.OrgId;
        using var client = new TollgatePlatformClient(options, new TollgateClientBehavior(options), recorder);

        var single = await client.SubmitFileAsync(new MemoryStream(TestAudio.Wav(1)), "one.wav");
        var multi = await client.SubmitFilesAsync([(new MemoryStream(TestAudio.Wav(1)), "a.wav"), (new MemoryStream(TestAudio.Wav(2)), "b.wav")]);
        var realtime = await client.OpenRealtimeAsync();
        var done = await Task.WhenAll(client.WaitForJobAsync(single.JobId), client.WaitForJobAsync(multi.JobId));

        Assert.All(done, j => Assert.Equal("completed", j.Status));
        Assert.Equal(2, done[1].Files.Count);
        Assert.StartsWith("ws://", realtime.RealtimeUrl.ToString());
        Assert.DoesNotContain(key.Key, realtime.RealtimeUrl.ToString());
        foreach (var job in new[] { single.JobId, multi.JobId })
        {
            var reads = recorder.Times("GET", $"/api_service/job_status/{job}");
            for (var i = 1; i < reads.Count; i++)
            {
                Assert.True(reads[i] - reads[i - 1] >= TimeSpan.FromSeconds(2.99));
            }
        }
    }

    /// <summary>The server's requests in flight for the organization's batch model, once they reach <paramref name="expected"/> (or after 10 s).</summary>
    private async Task<int> ServerInFlightAsync(string orgId, int expected)
    {
        using var admin = new TollgateAdminClient(Server.BaseAddress, ServerProcess.AdminToken);
        var inFlight = 0;
        for (var i = 0; i < 200 && inFlight != expected; i++)
        {
            if (i > 0)
            {
                await Task.Delay(50);
            }
            inFlight = (await admin.GetUsageAsync(orgId)).Models.Where(m => m.Model == Model).Sum(m => m.InFlight);
        }
        return inFlight;
    }

    private TollgateClientOptions Options(string apiKey) => new() { BaseAddress = Server.BaseAddress, ApiKey = apiKey };

    private async Task<CreatedApiKey> CreateKeyAsync(Dictionary<string, ModelLimits> models)
    {
        using var admin = new TollgateAdminClient(Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("sdk behaviour");
        var user = await admin.CreateUserAsync(org.Id, "dana");
        return await admin.CreateKeyAsync(org.Id, user.Id, models, name: "sdk");
    }

    /// <summary>Records when each request left, by method and path.</summary>
    private sealed class Recorder(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly ConcurrentQueue<(string Method, string Path, TimeSpan At)> _sent = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public List<TimeSpan> Times(string method, string path) =>
            [.. _sent.Where(s => s.Method == method && s.Path == path).Select(s => s.At).Order()];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _sent.Enqueue((request.Method.Method, request.RequestUri!.AbsolutePath, _clock.Elapsed));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
