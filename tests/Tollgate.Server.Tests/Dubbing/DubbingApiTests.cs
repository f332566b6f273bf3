using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audio;
using Tollgate.Infrastructure;

namespace Tollgate.Dubbing;

/// <summary>The Dubbing API end to end on a real server: the dub workflow, voices, ownership, credits and bad input.</summary>
public sealed class DubbingApiTests : IAsyncLifetime
{
    private const string Model = "velma-2-batch";
    private readonly HoldingGate _gate = new() { Holding = false };
    private TollgateServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TollgateServer.StartAsync(services: s => s.AddSingleton<IDubProcessingGate>(_gate));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<DubbingClient> ClientAsync(TestKey? sameOrg = null)
    {
        var key = sameOrg is null
            ? await _server.CreateKeyAsync(Model)
            : await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Model] = (5, 10) }, sameOrg.OrgId);
        return new DubbingClient(_server, key.Secret);
    }

    [Fact]
    public async Task ADub_GoesFromNewToDone_AndItsResultIsARealWavOfTheInputsLength()
    {
        using var client = await ClientAsync();
        var input = TestAudio.Wav(TestAudio.Samples(16_000, 4.2, (0.3, 3.9)), 16_000);

        var (created, dub) = await client.PostAsync("v1/me/dubs", DubbingClient.Upload(input, "pt-BR"));
        Assert.Equal(HttpStatusCode.Created, created);
        var id = dub["dubId"]!.GetValue<string>();
        Assert.StartsWith("dub_", id);
        Assert.Equal("new", dub["status"]!.GetValue<string>());
        Assert.Equal("pt-BR", dub["targetLanguage"]!.GetValue<string>());
        Assert.Equal("talk.wav", dub["name"]!.GetValue<string>());
        Assert.Null(dub["inputDuration"]);
        Assert.Null(dub["dubUrl"]);

        var (accepted, preprocessing) = await client.PostAsync($"v1/me/dubs/{id}/preprocess");
        Assert.Equal(HttpStatusCode.Accepted, accepted);
        Assert.Equal("preprocessing", preprocessing["status"]!.GetValue<string>());
        var preprocessed = await client.WaitForDubAsync(id, "preprocessed");
        Assert.Equal(4.2, preprocessed["inputDuration"]!.GetValue<double>());
        Assert.Equal(5, preprocessed["requiredCredits"]!.GetValue<int>()); // one per started second
        Assert.Equal(0, preprocessed["apiCreditsUsed"]!.GetValue<int>());
        Assert.Equal(36_000, preprocessed["apiCreditsLeft"]!.GetValue<int>());

        var (generating, queued) = await client.PostAsync($"v1/me/dubs/{id}/generate");
        Assert.Equal(HttpStatusCode.Accepted, generating);
        Assert.Equal("queued", queued["status"]!.GetValue<string>());
        Assert.Equal(5, queued["apiCreditsUsed"]!.GetValue<int>());
        Assert.Equal(35_995, queued["apiCreditsLeft"]!.GetValue<int>());

        var done = await client.WaitForDubAsync(id, "done");
        var url = new Uri(done["dubUrl"]!.GetValue<string>());
        Assert.Equal($"/v1/me/dubs/{id}/result", url.AbsolutePath);
        using var result = await client.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal("audio/wav", result.Content.Headers.ContentType!.MediaType);
        var wav = await result.Content.ReadAsByteArrayAsync();
        var probe = AudioProbe.Probe(new MemoryStream(wav));
        Assert.True(probe.Success, probe.Detail);
        Assert.Equal(AudioContainer.Wav, probe.Info.Container);
        Assert.Equal(4200, probe.Info.DurationMs);
        Assert.NotEqual(input.AsSpan(44).ToArray(), wav.AsSpan(44).ToArray()); // processed, not echoed

        var (_, account) = await client.GetAsync("v1/me");
        Assert.Equal(5, account["apiCreditsUsed"]!.GetValue<long>());
        Assert.Equal(35_995, account["apiCreditsLeft"]!.GetValue<int>());
    }

    [Fact]
    public async Task OutOfOrderCalls_Are409_AndChangeNothing()
    {
        using var client = await ClientAsync();
        var id = await client.CreateDubAsync(TestAudio.SpeechLikeWav());

        var (early, refusal) = await client.PostAsync($"v1/me/dubs/{id}/generate");
        Assert.Equal(HttpStatusCode.Conflict, early);
        Assert.Equal("not_preprocessed", refusal["code"]!.GetValue<string>());
        Assert.Contains("preprocess", refusal["detail"]!.GetValue<string>());
        var (_, unchanged) = await client.GetAsync($"v1/me/dubs/{id}");
        Assert.Equal("new", unchanged["status"]!.GetValue<string>());
        Assert.Equal(0, unchanged["apiCreditsUsed"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"v1/me/dubs/{id}/preprocess")).Status);
        await client.WaitForDubAsync(id, "preprocessed");
        var (twice, again) = await client.PostAsync($"v1/me/dubs/{id}/preprocess");
        Assert.Equal(HttpStatusCode.Conflict, twice);
        Assert.Equal("already_preprocessed", again["code"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"v1/me/dubs/{id}/generate")).Status);
        var (secondGenerate, charged) = await client.PostAsync($"v1/me/dubs/{id}/generate");
        Assert.Equal(HttpStatusCode.Conflict, secondGenerate);
        Assert.Equal("already_generated", charged["code"]!.GetValue<string>());
        await client.WaitForDubAsync(id, "done");
        var (_, account) = await client.GetAsync("v1/me");
        Assert.Equal(3, account["apiCreditsUsed"]!.GetValue<long>()); // charged once
    }

    [Fact]
    public async Task TheResult_Is409UntilTheDubIsDone()
    {
        using var client = await ClientAsync();
        var id = await client.CreateDubAsync(TestAudio.SpeechLikeWav());
        var (status, body) = await client.GetAsync($"v1/me/dubs/{id}/result");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("not_ready", body["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task AUserSeesOnlyTheirOwnDubsAndVoices_EvenInTheSameOrganization()
    {
        var ownerKey = await _server.CreateKeyAsync(Model);
        using var owner = new DubbingClient(_server, ownerKey.Secret);
        using var colleague = await ClientAsync(sameOrg: ownerKey);
        var dubId = await owner.CreateDubAsync(TestAudio.SpeechLikeWav());
        var (_, voice) = await owner.PostJsonAsync("v1/me/voices", new { name = "Mine", language = "en" });
        var voiceId = voice["voiceId"]!.GetValue<string>();

        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, $"v1/me/dubs/{dubId}"), (HttpMethod.Post, $"v1/me/dubs/{dubId}/preprocess"),
                     (HttpMethod.Post, $"v1/me/dubs/{dubId}/generate"), (HttpMethod.Get, $"v1/me/dubs/{dubId}/result"),
                     (HttpMethod.Get, $"v1/me/voices/{voiceId}"),
                 })
        {
            var (status, body) = await colleague.SendAsync(method, path);
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path}: {(int)status} {body}");
            Assert.Equal("not_found", body["code"]!.GetValue<string>());
        }
        var (_, page) = await colleague.GetAsync("v1/voices?limit=100");
        Assert.DoesNotContain(page["voices"]!.AsArray(), v => v!["voiceId"]!.GetValue<string>() == voiceId);
        var (_, dub) = await owner.GetAsync($"v1/me/dubs/{dubId}");
        Assert.Equal("new", dub["status"]!.GetValue<string>()); // the colleague's preprocess changed nothing
    }

    [Fact]
    public async Task BadInput_GetsAClearError_AndCreatesNoDub()
    {
        using var client = await ClientAsync();
        var cases = new (HttpContent Content, HttpStatusCode Status, string Code)[]
        {
            (DubbingClient.Upload([], "es"), HttpStatusCode.BadRequest, "empty_file"),
            (DubbingClient.Upload("not audio at all, just text"u8.ToArray(), "es"), HttpStatusCode.BadRequest, "unsupported_format"),
            (DubbingClient.Upload(TestAudio.SpeechLikeWav(), "not a language!"), HttpStatusCode.UnprocessableEntity, "validation_failed"),
            (DubbingClient.Upload(TestAudio.SpeechLikeWav(), "es", voiceId: "v_nobody"), HttpStatusCode.UnprocessableEntity, "validation_failed"),
            (new MultipartFormDataContent { { new StringContent("es"), "targetLanguage" } }, HttpStatusCode.UnprocessableEntity, "missing_field"),
            (new StringContent("{\"sourceUrl\": 5", System.Text.Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "invalid_json"),
            (new StringContent("hello", System.Text.Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"),
        };
        foreach (var (content, expected, code) in cases)
        {
            var (status, body) = await client.PostAsync("v1/me/dubs", content);
            Assert.True(status == expected, $"{code}: {(int)status} {body}");
            Assert.Equal(code, body["code"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(body["detail"]!.GetValue<string>()));
        }
        var dubbingFolder = Path.Combine(_server.DataDirectory, "dubbing");
        Assert.Empty(Directory.Exists(dubbingFolder) ? Directory.GetFiles(dubbingFolder) : []);
    }

    [Fact]
    public async Task AMissingOrBadKey_Is401InTheErrorShape()
    {
        using var anonymous = _server.CreateClient();
        using var response = await anonymous.GetAsync("v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("Api-Key", body["detail"]!.GetValue<string>());

        using var wrong = new DubbingClient(_server, "tg_live_not_a_real_key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("v1/me")).Status);
    }

    [Fact]
    public async Task Generate_WithoutEnoughCredits_Is402_AndChargesNothing()
    {
        await _server.DisposeAsync();
        _server = await TollgateServer.StartAsync(new Dictionary<string, string?> { ["Tollgate:Dubbing:MonthlyCredits"] = "4" });
        using var client = await ClientAsync();
        var id = await client.CreateDubAsync(TestAudio.Wav(TestAudio.Samples(16_000, 4.5, (0.1, 4.4)), 16_000));
        await client.PostAsync($"v1/me/dubs/{id}/preprocess");
        await client.WaitForDubAsync(id, "preprocessed");

        var (status, body) = await client.PostAsync($"v1/me/dubs/{id}/generate");
        Assert.Equal(HttpStatusCode.PaymentRequired, status);
        Assert.Equal("insufficient_credits", body["code"]!.GetValue<string>());
        Assert.Contains("needs 5 credits; 4 are left", body["detail"]!.GetValue<string>());
        var (_, dub) = await client.GetAsync($"v1/me/dubs/{id}");
        Assert.Equal("preprocessed", dub["status"]!.GetValue<string>());
        Assert.Equal(4, dub["apiCreditsLeft"]!.GetValue<int>());
    }

    [Fact]
    public async Task ADubInterruptedMidProcessing_IsFinishedByTheNextStart_AndChargedOnce()
    {
        _gate.Holding = true;
        var key = await _server.CreateKeyAsync(Model);
        string id;
        using (var client = new DubbingClient(_server, key.Secret))
        {
            id = await client.CreateDubAsync(TestAudio.SpeechLikeWav());
            await client.PostAsync($"v1/me/dubs/{id}/preprocess");
            await client.WaitForDubAsync(id, "preprocessed");
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"v1/me/dubs/{id}/generate")).Status);
            Assert.Equal(id, await _gate.Reached.WaitAsync(TimeSpan.FromSeconds(30)));
            var (_, held) = await client.GetAsync($"v1/me/dubs/{id}");
            Assert.Equal("processing", held["status"]!.GetValue<string>());
        }

        _gate.Holding = false;
        _server = await _server.RestartAsync();
        using (var client = new DubbingClient(_server, key.Secret))
        {
            var done = await client.WaitForDubAsync(id, "done");
            Assert.Equal(3, done["apiCreditsUsed"]!.GetValue<int>());
            Assert.Equal(36_000 - 3, done["apiCreditsLeft"]!.GetValue<int>());
            using var result = await client.Http.GetAsync(done["dubUrl"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
            Assert.Equal(3000, AudioProbe.Probe(await result.Content.ReadAsStreamAsync()).Info.DurationMs);
        }
    }

    [Fact]
    public async Task WorkPendingInADatabaseFromBeforeJobs_IsPickedUpOnStart()
    {
        _gate.Holding = true;
        var key = await _server.CreateKeyAsync(Model);
        string dubId;
        string voiceId;
        using (var client = new DubbingClient(_server, key.Secret))
        {
            dubId = await client.CreateDubAsync(TestAudio.SpeechLikeWav());
            await client.PostAsync($"v1/me/dubs/{dubId}/preprocess");
            await client.WaitForDubAsync(dubId, "preprocessed");
            await client.PostAsync($"v1/me/dubs/{dubId}/generate");
            Assert.Equal(dubId, await _gate.Reached.WaitAsync(TimeSpan.FromSeconds(30)));
            var (_, voice) = await client.PostJsonAsync("v1/me/voices", new { name = "Old", language = "en" });
            voiceId = voice["voiceId"]!.GetValue<string>();
        }
        await _server.StopAsync();
        // What a server from before the job engine left behind: a dub mid-way and a voice in training, and no jobs table
        // (nor its migration in the journal).
        using (var db = new Tollgate.Storage.Sqlite.SqliteDatabase($"Data Source={Path.Combine(_server.DataDirectory, "tollgate.db")}").Open())
        {
            using var drop = db.CreateCommand();
            drop.CommandText = $"DROP TABLE jobs; DELETE FROM {Tollgate.Storage.Sqlite.SqliteMigrator.JournalTable} WHERE ScriptName LIKE '%0002_jobs.sql'; UPDATE dubbing_voices SET status = 'training', sample_file = '{voiceId}_0.sample' WHERE id = '{voiceId}';";
            drop.ExecuteNonQuery();
        }
        File.WriteAllBytes(Path.Combine(_server.DataDirectory, "dubbing", voiceId + "_0.sample"), TestAudio.SpeechLikeWav());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        _gate.Holding = false;
        _server = await _server.RestartAsync();
        using (var client = new DubbingClient(_server, key.Secret))
        {
            Assert.Equal(3, (await client.WaitForDubAsync(dubId, "done"))["apiCreditsUsed"]!.GetValue<int>());
            Assert.Equal(3.0, (await client.WaitForVoiceAsync(voiceId, "ready"))["sampleDuration"]!.GetValue<double>());
        }
        Assert.Contains(_server.Logs, l => l.Contains("Resuming dubbing work left by a previous run: 1 dubs, 1 voices", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADubWhoseProcessingKeepsFailing_EndsInError_WithItsCreditsRefunded()
    {
        await _server.DisposeAsync();
        var processor = new BrokenProcessor();
        _server = await TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:Jobs:MaxAttempts"] = "3",
            ["Tollgate:Jobs:RetrySeconds"] = "0.05",
            ["Tollgate:Jobs:MaxRetrySeconds"] = "0.05",
            ["Tollgate:Jobs:PollSeconds"] = "0.05",
        }, s => s.AddSingleton<IDubProcessor>(processor));
        using var client = await ClientAsync();
        var id = await client.CreateDubAsync(TestAudio.SpeechLikeWav());
        await client.PostAsync($"v1/me/dubs/{id}/preprocess");
        await client.WaitForDubAsync(id, "preprocessed");
        var (_, queued) = await client.PostAsync($"v1/me/dubs/{id}/generate");
        Assert.Equal(3, queued["apiCreditsUsed"]!.GetValue<int>());

        var failed = await client.WaitForDubAsync(id, "error");
        Assert.Equal("processing_failed", failed["errorCode"]!.GetValue<string>());
        Assert.Equal(0, failed["apiCreditsUsed"]!.GetValue<int>());
        Assert.Equal(36_000, failed["apiCreditsLeft"]!.GetValue<int>());
        Assert.Equal(3, processor.Renders); // once per attempt, then given up
        Assert.DoesNotContain("disk on fire", failed.ToJsonString()); // the cause is logged, not shown to the caller
        Assert.Contains(_server.Logs, l => l.Contains("disk on fire", StringComparison.Ordinal));
    }

    /// <summary>A processor whose every render fails the way a broken disk or model would (not a bad input).</summary>
    private sealed class BrokenProcessor : IDubProcessor
    {
        private int _renders;

        public int Renders => Volatile.Read(ref _renders);

        public long Render(Stream input, Stream output, CancellationToken ct)
        {
            Interlocked.Increment(ref _renders);
            throw new IOException("disk on fire");
        }

        public double? MeasureLoudness(Stream sample, CancellationToken ct) => null;
    }

    [Fact]
    public async Task ACustomVoice_IsCreated_Trained_AndThenUsableForADub()
    {
        using var client = await ClientAsync();
        var (created, voice) = await client.PostJsonAsync("v1/me/voices", new { name = "Narrator", language = "en", style = "Calm" });
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("new", voice["status"]!.GetValue<string>());
        Assert.Equal("custom", voice["category"]!.GetValue<string>());
        var voiceId = voice["voiceId"]!.GetValue<string>();

        var (early, notReady) = await client.PostAsync("v1/me/dubs", DubbingClient.Upload(TestAudio.SpeechLikeWav(), voiceId: voiceId));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, early);
        Assert.Contains(voiceId, notReady["detail"]!.GetValue<string>());

        var sample = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.SpeechLikeWav()) { Headers = { ContentType = new MediaTypeHeaderValue("audio/wav") } }, "file", "me.wav" },
        };
        var (training, trainingVoice) = await client.PostAsync($"v1/me/voices/{voiceId}/clone", sample);
        Assert.Equal(HttpStatusCode.Accepted, training);
        Assert.Equal("training", trainingVoice["status"]!.GetValue<string>());
        var ready = await client.WaitForVoiceAsync(voiceId, "ready");
        Assert.Equal(3.0, ready["sampleDuration"]!.GetValue<double>());
        Assert.True(ready["sampleLoudnessDb"]!.GetValue<double>() is < 0 and > -40);

        var (again, conflict) = await client.PostAsync($"v1/me/voices/{voiceId}/clone",
            new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "file", "me.wav" } });
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal("invalid_state", conflict["code"]!.GetValue<string>());

        var (dubbed, dub) = await client.PostAsync("v1/me/dubs", DubbingClient.Upload(TestAudio.SpeechLikeWav(), voiceId: voiceId));
        Assert.Equal(HttpStatusCode.Created, dubbed);
        Assert.Equal(voiceId, dub["voiceId"]!.GetValue<string>());
        var (_, mine) = await client.GetAsync("v1/voices?search=narrator&styles=calm&languages=en");
        Assert.Contains(mine["voices"]!.AsArray(), v => v!["voiceId"]!.GetValue<string>() == voiceId);
    }

    [Fact]
    public async Task ATooShortSample_FailsTraining_WithAnErrorCode()
    {
        using var client = await ClientAsync();
        var (_, voice) = await client.PostJsonAsync("v1/me/voices", new { name = "Short", language = "en" });
        var voiceId = voice["voiceId"]!.GetValue<string>();
        await client.PostAsync($"v1/me/voices/{voiceId}/clone", new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.Wav(TestAudio.Samples(16_000, 0.4, (0, 0.4)), 16_000)), "file", "short.wav" },
        });
        var failed = await client.WaitForVoiceAsync(voiceId, "error");
        Assert.Equal("sample_too_short", failed["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheVoiceLibrary_PagesByCursor_AndFilters()
    {
        using var client = await ClientAsync();
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var (status, page) = await client.GetAsync("v1/voices?limit=5" + (cursor is null ? "" : "&cursor=" + cursor));
            Assert.Equal(HttpStatusCode.OK, status);
            var voices = page["voices"]!.AsArray();
            Assert.InRange(voices.Count, 1, 5);
            seen.AddRange(voices.Select(v => v!["voiceId"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
            Assert.Equal(cursor is not null, page["hasMore"]!.GetValue<bool>());
        }
        while (cursor is not null);
        Assert.Equal(VoiceLibrary.Stock.Count, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());

        var (_, french) = await client.GetAsync("v1/voices?languages=fr&genres=news");
        Assert.Equal(["v_nadia"], french["voices"]!.AsArray().Select(v => v!["voiceId"]!.GetValue<string>()));
        var (_, either) = await client.GetAsync("v1/voices?languages=de,ja");
        Assert.Equal(3, either["voices"]!.AsArray().Count);
        var (_, searched) = await client.GetAsync("v1/voices?search=documentary");
        Assert.Equal(2, searched["voices"]!.AsArray().Count);

        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("v1/voices?limit=0")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("v1/voices?limit=101")).Status);
        var (badCursor, body) = await client.GetAsync("v1/voices?cursor=garbage!");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor);
        Assert.Equal("invalid_parameter", body["code"]!.GetValue<string>());
    }
}
