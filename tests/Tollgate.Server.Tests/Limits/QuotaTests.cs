using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;
using Tollgate.Metering;

namespace Tollgate.Limits;

/// <summary>Monthly audio-time quotas on a real server: exact under parallel load, cut-off mid-stream, rollover, durability.</summary>
public sealed class QuotaTests : IAsyncLifetime
{
    private const string Model = "velma-2-stt-batch";
    private const string Streaming = "velma-2-stt-streaming";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 31, 23, 50, 0, TimeSpan.Zero));
    private TollgateServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TollgateServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static double Hours(long ms) => ms / 3_600_000d;

    private static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(HttpClient client, string model, byte[] file, string name = "a.wav")
    {
        using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", name } };
        using var response = await client.PostAsync($"api/{model}", content);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private async Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId) =>
        await _server.Services.GetRequiredService<IUsageLedger>().ChargesAsync(orgId, new MonthPeriod(2026, 5));

    [Fact]
    public async Task ParallelUploads_NeverTogetherExceedTheLimit_AndTheLedgerHoldsExactlyWhatWasAdmitted()
    {
        var key = await _server.CreateKeyAsync(Model, concurrency: 20, hours: Hours(10_000));
        using var client = _server.CreateClient(key.Secret);
        var file = TestAudio.SpeechLikeWav(); // 3,000 ms
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => PostAsync(client, Model, file)));

        Assert.Equal(3, results.Count(r => r.Status == HttpStatusCode.OK));
        var refused = results.Where(r => r.Status != HttpStatusCode.OK).ToList();
        Assert.Equal(9, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.Status);
            Assert.Equal("quota_exceeded", r.Body["code"]!.GetValue<string>());
            Assert.Contains("resets at 2026-06-01T00:00:00Z", r.Body["detail"]!.GetValue<string>());
        });
        var charges = await ChargesAsync(key.OrgId);
        Assert.Equal(3, charges.Count);
        Assert.Equal(9_000, charges.Sum(c => c.Milliseconds));
        Assert.All(charges, c => Assert.Equal((key.UserId, key.KeyId, Model), (c.UserId, c.KeyId, c.Model)));
        Assert.Equal(3, charges.Select(c => c.RequestId).Distinct().Count());

        var usage = await Usage.ForModelAsync(_server, key.OrgId, Model);
        Assert.Equal(9_000, usage["used_ms"]!.GetValue<long>());
        Assert.Equal(1_000, usage["remaining_ms"]!.GetValue<long>());
        Assert.Equal("2026-06-01T00:00:00+00:00", DateTimeOffset.Parse((await ReportAsync(key.OrgId))["reset_at"]!.GetValue<string>()).ToString("yyyy-MM-ddTHH:mm:sszzz"));
    }

    [Fact]
    public async Task AFileIsAdmittedOnlyIfItFits_ToTheMillisecond_AndTheRefusalSaysWhatRemains()
    {
        var key = await _server.CreateKeyAsync(Model, hours: Hours(4_000));
        using var client = _server.CreateClient(key.Secret);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Model, TestAudio.SpeechLikeWav())).Status);

        var tooLong = TestAudio.Wav(TestAudio.Samples(16_000, 1.001), 16_000);
        var (status, body) = await PostAsync(client, Model, tooLong);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("1000 ms", body["detail"]!.GetValue<string>());

        var exact = TestAudio.Wav(TestAudio.Samples(16_000, 1.0), 16_000);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Model, exact)).Status);
        Assert.Equal(4_000, (await ChargesAsync(key.OrgId)).Sum(c => c.Milliseconds));

        // Nothing left: refused at admission, before the body is read.
        (status, body) = await PostAsync(client, Model, exact);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("0 audio hours remain", body["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task AFailedRequest_ChargesNothing()
    {
        var key = await _server.CreateKeyAsync(Model, hours: Hours(10_000));
        using var client = _server.CreateClient(key.Secret);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, Model, new byte[1000], "noise.wav")).Status);
        Assert.Empty(await ChargesAsync(key.OrgId));
        Assert.Equal(10_000, (await Usage.ForModelAsync(_server, key.OrgId, Model))["remaining_ms"]!.GetValue<long>());
    }

    [Fact]
    public async Task Streaming_IsCutOffAtTheExactRemainingTime_AndChargedWhatWasAccepted()
    {
        var key = await _server.CreateKeyAsync(Streaming, hours: Hours(2_500));
        var uri = _server.WebSocketUri($"/api/{Streaming}?api_key={key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1");
        await using var session = await WebSocketSession.ConnectAsync(uri);
        var audio = TestAudio.S16Le(TestAudio.Samples(16_000, 5.0, (0.2, 4.8)));
        try
        {
            await session.SendAudioAsync(audio, frameSize: 3_200); // 100 ms frames
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            // The server may close while frames are still being sent.
        }
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(4029, received.CloseCode);
        var error = received.Messages.Last();
        Assert.Equal("error", error["type"]!.GetValue<string>());
        Assert.Equal("quota_exceeded", error["code"]!.GetValue<string>());
        var charge = Assert.Single(await ChargesAsync(key.OrgId));
        Assert.Equal(2_500, charge.Milliseconds);
    }

    [Fact]
    public async Task Streaming_WithNothingLeft_IsClosed4029AtAdmission()
    {
        var key = await _server.CreateKeyAsync(Streaming, hours: Hours(1_000));
        var uri = _server.WebSocketUri($"/api/{Streaming}?api_key={key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1");
        await using (var first = await WebSocketSession.ConnectAsync(uri))
        {
            await first.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 1.0)));
            await first.SendTextAsync("");
            Assert.Equal(1000, (await first.ReadUntilClosedAsync()).Messages.Last()["duration_ms"]!.GetValue<long>());
        }
        await using var second = await WebSocketSession.ConnectAsync(uri);
        var received = await second.ReadUntilClosedAsync();
        Assert.Equal(4029, received.CloseCode);
        Assert.Equal("quota_exceeded", Assert.Single(received.Messages)["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task MonthRollover_GivesAFreshQuota_AndTheOldMonthIsStillReported()
    {
        var key = await _server.CreateKeyAsync(Model, hours: Hours(3_000));
        using var client = _server.CreateClient(key.Secret);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Model, TestAudio.SpeechLikeWav())).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(client, Model, TestAudio.SpeechLikeWav())).Status);

        _time.Advance(TimeSpan.FromMinutes(10)); // 2026-06-01T00:00:00Z
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Model, TestAudio.SpeechLikeWav())).Status);

        var may = await Usage.ForModelAsync(_server, key.OrgId, Model, "2026-05");
        var june = await Usage.ForModelAsync(_server, key.OrgId, Model);
        Assert.Equal(3_000, may["used_ms"]!.GetValue<long>());
        Assert.Equal(3_000, june["used_ms"]!.GetValue<long>());
        Assert.Equal("2026-06", (await ReportAsync(key.OrgId))["month"]!.GetValue<string>());
    }

    [Fact]
    public async Task TwoKeysOfOneOrganization_DrawOnOnePool_EachJudgedByItsOwnLimit()
    {
        var generous = await _server.CreateKeyAsync(Model, hours: Hours(10_000));
        var modest = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Model] = (5, Hours(5_000)) }, orgId: generous.OrgId);
        using var g = _server.CreateClient(generous.Secret);
        using var m = _server.CreateClient(modest.Secret);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(g, Model, TestAudio.SpeechLikeWav())).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(m, Model, TestAudio.Wav(TestAudio.Samples(16_000, 2.0), 16_000))).Status);
        // 5,000 ms used: the modest key's limit is reached, the generous key has 5,000 ms left.
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(m, Model, TestAudio.SpeechLikeWav())).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(g, Model, TestAudio.SpeechLikeWav())).Status);
        var charges = await ChargesAsync(generous.OrgId);
        Assert.Equal(new[] { generous.KeyId, modest.KeyId, generous.KeyId }, charges.Select(c => c.KeyId));
    }

    [Fact]
    public async Task UsageSurvivesARestart_AndStillCountsAgainstTheLimit()
    {
        var key = await _server.CreateKeyAsync(Model, hours: Hours(5_000));
        using (var client = _server.CreateClient(key.Secret))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Model, TestAudio.SpeechLikeWav())).Status);
        }
        _server = await _server.RestartAsync();
        using var after = _server.CreateClient(key.Secret);
        Assert.Equal(3_000, (await Usage.ForModelAsync(_server, key.OrgId, Model))["used_ms"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(after, Model, TestAudio.SpeechLikeWav())).Status);
    }

    [Fact]
    public async Task UsageReport_RejectsABadMonth_AndAnUnknownOrganization()
    {
        using var admin = _server.CreateAdminClient();
        using var bad = await admin.GetAsync("admin/orgs/org_nope/usage?month=2026-13");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var unknown = await admin.GetAsync("admin/orgs/org_nope/usage");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private async Task<JsonObject> ReportAsync(string orgId)
    {
        using var admin = _server.CreateAdminClient();
        return JsonNode.Parse(await admin.GetStringAsync($"admin/orgs/{orgId}/usage"))!.AsObject();
    }
}
