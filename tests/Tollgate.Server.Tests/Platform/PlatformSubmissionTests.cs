using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Infrastructure;
using Tollgate.Limits;
using Tollgate.Metering;

namespace Tollgate.Platform;

/// <summary>Single-file submissions on a real server: JSON and multipart, the 5 MB edge, bad input that stores nothing, results and charges.</summary>
public sealed class PlatformSubmissionTests : IAsyncLifetime
{
    private const long Limit = 5L * 1024 * 1024;
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId) =>
        await _server.Services.GetRequiredService<IUsageLedger>().ChargesAsync(orgId, MonthPeriod.Current(TimeProvider.System));

    private void AssertNothingStored()
    {
        var platform = Path.Combine(_server.DataDirectory, "platform");
        Assert.True(!Directory.Exists(platform) || Directory.GetFiles(platform, "*", SearchOption.AllDirectories).Length == 0,
            "audio was kept for a refused request");
        var spool = Path.Combine(_server.DataDirectory, "spool");
        Assert.True(!Directory.Exists(spool) || Directory.GetFiles(spool).Length == 0, "a spool file was left behind");
    }

    /// <summary>A WAV of exactly <paramref name="bytes"/> bytes (16 kHz mono, 16-bit), with a burst of sound in it.</summary>
    private static byte[] WavOfSize(long bytes)
    {
        var samples = new short[(bytes - 44) / 2];
        for (var i = 16_000; i < Math.Min(samples.Length, 48_000); i++)
        {
            samples[i] = (short)(8000 * Math.Sin(i * 0.2));
        }
        var wav = TestAudio.Wav(samples, 16_000);
        Assert.Equal(bytes, wav.Length);
        return wav;
    }

    [Fact]
    public async Task AJsonSubmission_IsProcessedByTheModels_AndEachModelIsChargedTheFilesAudioOnce()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        var flags = new JsonObject { ["emotion_annotation"] = true, ["demographics"] = true, ["deepfake_detection"] = true };
        var (status, accepted) = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), flags: flags, filename: "talk.wav"));

        Assert.Equal(HttpStatusCode.OK, status);
        var jobId = accepted["job_id"]!.GetValue<string>();
        Assert.True(Guid.TryParse(jobId, out _));
        Assert.Equal("processing", accepted["status"]!.GetValue<string>());
        Assert.Equal(4, accepted["api_calls_charged"]!.GetValue<int>());
        Assert.EndsWith("seconds", accepted["estimated_processing_time"]!.GetValue<string>());

        var done = await client.WaitForAsync(jobId, "completed");
        Assert.Equal(4, done["api_calls_charged"]!.GetValue<int>());
        Assert.Equal(3000, done["duration_ms"]!.GetValue<long>());
        Assert.Null(done["retry_after_seconds"]);
        Assert.Null(done["error"]);
        Assert.Equal("file", done["submission_type"]!.GetValue<string>());
        Assert.True(done["flags"]!["deepfake_detection"]!.GetValue<bool>());
        var file = Assert.Single(done["files"]!.AsArray())!.AsObject();
        Assert.Equal(("talk.wav", "wav", "completed", 4), (file["filename"]!.GetValue<string>(), file["file_extension"]!.GetValue<string>(),
            file["status"]!.GetValue<string>(), file["api_calls_charged"]!.GetValue<int>()));
        var result = file["result"]!.AsObject();
        Assert.Equal(3000, result["duration_ms"]!.GetValue<long>());
        // The reference backend segments the clip's two bursts of sound; it has no recognizer, so the text is empty.
        var utterances = result["utterances"]!.AsArray();
        Assert.Equal(2, utterances.Count);
        Assert.All(utterances, u => Assert.Equal(("Neutral", "en", 1), (u!["emotion"]!.GetValue<string>(), u["language"]!.GetValue<string>(), u["speaker"]!.GetValue<int>())));
        Assert.Equal("Unknown", result["demographics"]!["speakers"]![0]!["estimates"]!["accent"]!.GetValue<string>());
        Assert.Equal(0.5, result["deepfake"]!["score"]!.GetValue<double>());

        var charges = await ChargesAsync(key.OrgId);
        Assert.Equal(
            new[] { PlatformClient.Transcription, PlatformClient.Emotion, PlatformClient.Accent, PlatformClient.Deepfake }.Order(),
            charges.Select(c => c.Model).Order());
        Assert.All(charges, c => Assert.Equal((3000L, $"platform:{jobId}:0:{c.Model}", key.KeyId), (c.Milliseconds, c.RequestId, c.KeyId)));
        Assert.False(Directory.EnumerateFiles(Path.Combine(_server.DataDirectory, "platform"), "*", SearchOption.AllDirectories).Any(),
            "the audio of a finished job is deleted");
    }

    [Fact]
    public async Task AMultipartSubmission_WorksTheSame_WithFlagsAsJsonText()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        var (status, accepted) = await client.PostMultipartAsync(TestAudio.SpeechLikeWav(), "part.wav",
            new Dictionary<string, string> { ["flags"] = "{\"emotion_annotation\": true}" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, accepted["api_calls_charged"]!.GetValue<int>());
        var done = await client.WaitForAsync(accepted["job_id"]!.GetValue<string>(), "completed");
        var file = done["files"]![0]!;
        Assert.Equal(("part.wav", "wav"), (file["filename"]!.GetValue<string>(), file["file_extension"]!.GetValue<string>()));
        Assert.Equal(2, (await ChargesAsync(key.OrgId)).Count);
    }

    [Fact]
    public async Task ExactlyTheLimitOfAudioPasses_AndOneByteMoreIs413_InJsonAndMultipart()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        var exact = WavOfSize(Limit);
        var over = new byte[Limit + 1];
        exact.CopyTo(over, 0);

        var json = await client.PostJsonAsync(PlatformClient.Body(exact));
        Assert.Equal(HttpStatusCode.OK, json.Status);
        var multipart = await client.PostMultipartAsync(exact);
        Assert.Equal(HttpStatusCode.OK, multipart.Status);
        await client.WaitForAsync(json.Body["job_id"]!.GetValue<string>(), "completed");
        await client.WaitForAsync(multipart.Body["job_id"]!.GetValue<string>(), "completed");
        var expectedMs = (Limit - 44) / 2 * 1000 / 16_000;
        Assert.All(await ChargesAsync(key.OrgId), c => Assert.Equal(expectedMs, c.Milliseconds));

        PlatformClient.AssertError(HttpStatusCode.RequestEntityTooLarge, "file_too_large", await client.PostJsonAsync(PlatformClient.Body(over)));
        using var fresh = new PlatformClient(_server, key);
        PlatformClient.AssertError(HttpStatusCode.RequestEntityTooLarge, "file_too_large", await fresh.PostMultipartAsync(over));
        Assert.Equal(2, (await ChargesAsync(key.OrgId)).Count);
        AssertNothingStored();
    }

    [Fact]
    public async Task ABodyWithoutALengthIsCutOffAtTheLimit_NotBuffered()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        // Chunked (no Content-Length) and far larger than any body the endpoint reads: refused once the audio passes the limit.
        var prefix = Encoding.ASCII.GetBytes("{\"file_extension\":\"wav\",\"audio_base64\":\"");
        var stream = new EndlessBase64(prefix);
        using var content = new StreamContent(stream);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await client.Http.PostAsync("api_service", content);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        catch (HttpRequestException)
        {
            // The server answered 413 and closed the connection while the client was still sending: a client that
            // writes on past the answer may see the reset instead of the answer.
        }
        // What the client got to send includes what the loopback socket buffers held; the point is that the server
        // answered long before the body's end, without waiting for (or holding) all of it.
        Assert.True(stream.Sent < EndlessBase64.Total / 2, $"the client got to send {stream.Sent} bytes before the server refused");
        AssertNothingStored();
    }

    public static TheoryData<string, string, string> BadJsonBodies => new()
    {
        { "{\"audio_base64\":\"UklGR!!!\",\"file_extension\":\"wav\"}", "400", "invalid_base64" },
        { "{\"audio_base64\":\"UklGRg\",\"file_extension\":\"wav\"}", "400", "invalid_base64" },
        { "{\"audio_base64\":\"\",\"file_extension\":\"wav\"}", "400", "empty_audio" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(TestAudio.SpeechLikeWav()) + "\",\"file_extension\":\"flac\"}", "400", "unsupported_format" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }) + "\",\"file_extension\":\"wav\"}", "400", "undecodable_audio" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(TestAudio.SpeechLikeWav()) + "\",\"file_extension\":\"mp3\"}", "400", "undecodable_audio" },
        { "{\"file_extension\":\"wav\",\"flags\":{}}", "422", "missing_audio" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(TestAudio.SpeechLikeWav()) + "\"}", "422", "validation_failed" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(TestAudio.SpeechLikeWav()) + "\",\"file_extension\":\"wav\",\"flags\":{\"mood\":true}}", "422", "validation_failed" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(TestAudio.SpeechLikeWav()) + "\",\"file_extension\":\"wav\",\"flags\":{\"demographics\":\"yes\"}}", "422", "validation_failed" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(TestAudio.SpeechLikeWav()) + "\",\"file_extension\":\"wav\",\"speed\":2}", "422", "validation_failed" },
        { "{\"audio_base64\":\"" + Convert.ToBase64String(TestAudio.SpeechLikeWav()) + "\",\"file_extension\":\"wav\",\"submission_type\":\"batch\"}", "422", "validation_failed" },
        { "{\"audio_base64\":42,\"file_extension\":\"wav\"}", "422", "validation_failed" },
        { "{\"audio_base64\":\"AAAA\",\"file_extension\":\"wav\"", "422", "invalid_json" },
        { "[1,2]", "422", "invalid_json" },
    };

    [Theory]
    [MemberData(nameof(BadJsonBodies))]
    public async Task BadJsonBodies_AreRefusedInShape_AndStoreNothing(string body, string status, string code)
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        PlatformClient.AssertError((HttpStatusCode)int.Parse(status), code, await client.PostRawAsync(body));
        Assert.Empty(await ChargesAsync(key.OrgId));
        AssertNothingStored();
    }

    [Fact]
    public async Task BadMultipartBodies_AreRefusedInShape_AndStoreNothing()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        PlatformClient.AssertError(HttpStatusCode.BadRequest, "empty_audio", await client.PostMultipartAsync([]));
        PlatformClient.AssertError(HttpStatusCode.BadRequest, "unsupported_format", await client.PostMultipartAsync(TestAudio.SpeechLikeWav(), "clip.flac"));
        PlatformClient.AssertError(HttpStatusCode.BadRequest, "undecodable_audio", await client.PostMultipartAsync(new byte[100], "clip.wav"));
        PlatformClient.AssertError(HttpStatusCode.UnprocessableEntity, "validation_failed",
            await client.PostMultipartAsync(TestAudio.SpeechLikeWav(), "clip.wav", new Dictionary<string, string> { ["flags"] = "{\"emotion_annotation\":1}" }));
        using var noFile = new MultipartFormDataContent { { new StringContent("wav"), "file_extension" } };
        using var response = await client.Http.PostAsync("api_service", noFile);
        PlatformClient.AssertError(HttpStatusCode.UnprocessableEntity, "missing_audio",
            (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject()));
        PlatformClient.AssertError(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", await client.PostRawAsync("audio", "text/plain"));
        Assert.Empty(await ChargesAsync(key.OrgId));
        AssertNothingStored();
    }

    [Fact]
    public async Task LineWrappedBase64_AndAnOpusFile_AreAccepted()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        var wrapped = Convert.ToBase64String(TestAudio.SpeechLikeWav(), Base64FormattingOptions.InsertLineBreaks);
        var body = new JsonObject { ["audio_base64"] = wrapped, ["file_extension"] = ".WAV" };
        var answer = await client.PostJsonAsync(body);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var opus = TestAudio.Encode("opus", 2.0, "-c:a", "libopus");
        var ogg = await client.PostJsonAsync(PlatformClient.Body(opus, "opus"));
        Assert.Equal(HttpStatusCode.OK, ogg.Status);
        var done = await client.WaitForAsync(ogg.Body["job_id"]!.GetValue<string>(), "completed");
        Assert.InRange(done["duration_ms"]!.GetValue<long>(), 1900, 2100);
    }

    [Fact]
    public async Task AnotherOrganizationsJob_Is404_LikeAnUnknownOne()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        var other = await PlatformClient.FullKeyAsync(_server);
        using var client = new PlatformClient(_server, key);
        using var stranger = new PlatformClient(_server, other);
        var (_, accepted) = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav()));
        var jobId = accepted["job_id"]!.GetValue<string>();
        foreach (var id in new[] { jobId, Guid.NewGuid().ToString(), "not-a-job" })
        {
            var (status, body, response) = await stranger.StatusAsync(id);
            response.Dispose();
            PlatformClient.AssertError(HttpStatusCode.NotFound, "job_not_found", (status, body));
        }
        // Nor can it add files to it.
        PlatformClient.AssertError(HttpStatusCode.NotFound, "job_not_found",
            await stranger.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), jobId: jobId)));
        await client.WaitForAsync(jobId, "completed");
    }

    /// <summary>A request body far larger than the limit: a JSON prefix, then base64 text (64 MB in all); counts what was read.</summary>
    private sealed class EndlessBase64(byte[] prefix) : Stream
    {
        public const long Total = 64L * 1024 * 1024;

        public long Sent { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Sent; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            count = (int)Math.Min(Math.Min(count, 16 * 1024), Total - Sent);
            for (var i = 0; i < count; i++)
            {
                var at = Sent + i;
                buffer[offset + i] = at < prefix.Length ? prefix[at] : (byte)'A';
            }
            Sent += count;
            return count;
        }
    }
}
