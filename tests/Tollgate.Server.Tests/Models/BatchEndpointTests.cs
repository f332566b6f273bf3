using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Tollgate.Admin;
using Tollgate.Contracts;
using Tollgate.Infrastructure;
using Tollgate.Models;

namespace Tollgate.Models;

/// <summary>The 11 batch endpoints, on a real server: contract-valid answers, real durations, the contracts' errors.</summary>
public sealed class BatchEndpointTests : IAsyncLifetime
{
    private TollgateServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await TollgateServer.StartAsync();
        var key = await _server.CreateKeyAsync(ModelCatalog.Names.ToDictionary(n => n, _ => (5, 10.0)));
        _client = _server.CreateClient(key.Secret);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    public static TheoryData<string, string> BatchModels()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.GetFiles(Path.Combine(ContractDocument.ContractsDirectory, "openapi")))
        {
            var text = File.ReadAllText(file);
            foreach (var model in ModelCatalog.All.Where(m => m.Kind == ModelKind.Batch))
            {
                if (text.Contains($"  /api/{model.Name}:\n", StringComparison.Ordinal))
                {
                    data.Add(model.Name, Path.GetFileName(file));
                }
            }
        }
        return data;
    }

    [Fact]
    public void EveryBatchContract_HasAnEndpoint() => Assert.Equal(11, BatchModels().Count);

    [Theory]
    [MemberData(nameof(BatchModels))]
    public async Task Post_Wav_AnswersTheContractSchema_WithTheRealDuration(string model, string contractFile)
    {
        var contract = ContractDocument.OpenApi(contractFile);
        using var response = await PostAsync(model, TestAudio.SpeechLikeWav(), "call.wav");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");

        JsonNode body;
        if (model == "velma-2-pii-phi-redaction-batch")
        {
            Assert.Equal("multipart/form-data", response.Content.Headers.ContentType!.MediaType);
            var parts = await ReadMultipartAsync(response, text);
            body = JsonNode.Parse(parts["metadata"])!;
            contract.AssertValid(body, "#/components/schemas/RedactionMetadata");
            // The audio part is MP3, as the contract says: the upload re-encoded, exactly as long.
            Assert.Equal(("mp3", 3000L), TestAudio.ProbeMp3(parts["audio"]));
        }
        else
        {
            body = JsonNode.Parse(text)!;
            contract.AssertValid(body, contract.ResponseSchema("/api/" + model));
        }
        var duration = body["duration_ms"]?.GetValue<long>() ?? (long)Math.Round(body["duration_s"]?.GetValue<double>() * 1000 ?? -1);
        if (model is not ("velma-2-accent-batch" or "velma-2-emotion-batch"))
        {
            Assert.Equal(3000, duration);
        }
    }

    [Theory]
    [InlineData("velma-2-batch", "velma-2-batch-openapi.yml")]
    public async Task ListPresets_AnswersTheContractSchema(string model, string contractFile)
    {
        var contract = ContractDocument.OpenApi(contractFile);
        var body = JsonNode.Parse(await _client.GetStringAsync($"api/{model}/list-presets"));
        contract.AssertValid(body, contract.ResponseSchema($"/api/{model}/list-presets", "get"));
        Assert.NotEmpty(body!["presets"]!.AsArray());
    }

    public static TheoryData<string, string[]> Formats => new()
    {
        { "aac", ["-c:a", "aac", "-f", "adts"] },
        { "aiff", [] },
        { "flac", [] },
        { "mov", ["-c:a", "aac"] },
        { "mp3", ["-c:a", "libmp3lame", "-b:a", "64k"] },
        { "mp4", ["-c:a", "aac"] },
        { "ogg", ["-c:a", "libvorbis"] },
        { "opus", ["-c:a", "libopus"] },
        { "wav", [] },
        { "webm", ["-c:a", "libopus"] },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Post_EveryContractFormat_IsProbedToItsRealDuration(string extension, string[] codec)
    {
        var audio = TestAudio.Encode(extension, 4.0, codec);
        using var response = await PostAsync("velma-2-stt-batch-english-vfast", audio, "clip." + extension);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{extension}: {(int)response.StatusCode} {text}");
        var duration = JsonNode.Parse(text)!["duration_ms"]!.GetValue<long>();
        // ADTS has no edit list or gapless tag: the AAC encoder's priming frame (64 ms at 16 kHz) is audio as far as
        // the headers can tell. Every other format records what was encoded.
        Assert.InRange(duration, 3940, extension == "aac" ? 4130 : 4060);
    }

    [Theory]
    [InlineData("3gp", new[] { "-c:a", "aac" })]
    [InlineData("au", new string[0])]
    [InlineData("m4a", new[] { "-c:a", "aac" })]
    [InlineData("wma", new[] { "-c:a", "wmav2" })]
    public async Task SyntheticVoiceDetection_AcceptsItsExtraFormats(string extension, string[] codec)
    {
        var audio = TestAudio.Encode(extension, 4.0, codec);
        using var response = await PostAsync("velma-2-synthetic-voice-detection-batch", audio, "clip." + extension);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{extension}: {(int)response.StatusCode} {text}");
        Assert.InRange(JsonNode.Parse(text)!["duration_ms"]!.GetValue<long>(), 3940, 4100);
    }

    [Fact]
    public async Task EmptyFile_Is400()
    {
        using var response = await PostAsync("velma-2-stt-batch", [], "empty.wav");
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "empty_file", "The uploaded file is empty.");
    }

    [Fact]
    public async Task UnsupportedExtension_Is400WithTheContractsSentence()
    {
        using var response = await PostAsync("velma-2-stt-batch", TestAudio.SpeechLikeWav(), "notes.txt");
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "unsupported_format",
            "Unsupported file format. Supported formats: .aac, .aiff, .flac, .mov, .mp3, .mp4, .ogg, .opus, .wav, .webm.");
    }

    [Fact]
    public async Task FormatTheModelDoesNotTake_Is400_EvenWithAnAcceptedExtension()
    {
        // music-detection takes no AIFF: AIFF bytes named .wav are refused by content.
        var aiff = TestAudio.Encode("aiff", 2.0);
        using var response = await PostAsync("velma-2-music-detection-batch", aiff, "disguised.wav");
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "unsupported_format", null);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 255, 255, 255, 255, (byte)'W', (byte)'A', (byte)'V', (byte)'E' })]
    public async Task GarbageOrTruncatedContent_Is400CouldNotBeProcessed(byte[] content)
    {
        using var response = await PostAsync("velma-2-stt-batch", content, "broken.wav");
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "unprocessable_audio",
            "The audio could not be processed. It may be corrupted or in an unsupported format.");
    }

    [Fact]
    public async Task TruncatedRealFile_Is400NotACrash()
    {
        var mp4 = TestAudio.Encode("mp4", 3.0, "-c:a", "aac", "-movflags", "+faststart");
        using var response = await PostAsync("velma-2-stt-batch", mp4[..(mp4.Length / 3)], "cut.mp4");
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.OK);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            await AssertErrorAsync(response, HttpStatusCode.BadRequest, "unprocessable_audio", null);
        }
    }

    [Fact]
    public async Task MissingUploadFile_Is422InTheValidationShape()
    {
        using var content = new MultipartFormDataContent { { new StringContent("true"), "speaker_diarization" } };
        using var response = await _client.PostAsync("api/velma-2-stt-batch", content);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = await AdminApiTests.ReadObjectAsync(response);
        ContractDocument.OpenApi("stt-batch-openapi.yml").AssertValid(body, "#/components/schemas/HTTPValidationError");
        Assert.Equal("upload_file", body["detail"]![0]!["loc"]![1]!.GetValue<string>());
        Assert.Equal("missing_field", body["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task SyntheticVoiceDetection_UnderHalfASecond_Is422()
    {
        var wav = TestAudio.Wav(TestAudio.Samples(16_000, 0.4, (0, 0.4)), 16_000);
        using var response = await PostAsync("velma-2-synthetic-voice-detection-batch", wav, "short.wav");
        await AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "audio_too_short", "The audio is too short to analyze.");
    }

    [Fact]
    public async Task BadFormFieldValue_Is400InvalidRequest()
    {
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" },
            { new StringContent("english"), "language" },
        };
        using var response = await _client.PostAsync("api/velma-2-stt-batch", content);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, null, "Invalid language='english'. Expected an ISO 639-1 language code (e.g. 'en', 'fr').");
    }

    [Fact]
    public async Task Velma2_MalformedConfig_Is422InvalidConfiguration()
    {
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" },
            { new StringContent("{\"behaviors\": [\"preset:no-such-preset\"]}"), "config" },
        };
        using var response = await _client.PostAsync("api/velma-2-batch", content);
        await AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "invalid_configuration", "Invalid configuration.");
    }

    [Fact]
    public async Task DeclaredLengthOver100MB_Is413BeforeTheBodyIsSent()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/velma-2-stt-batch")
        {
            Content = new StreamContent(new RepeatingStream(0, 150L * 1024 * 1024)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        request.Content.Headers.ContentLength = 150L * 1024 * 1024;
        // As a careful client does for a large upload: the answer comes before any of the 150 MB is sent.
        request.Headers.ExpectContinue = true;
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task ChunkedUploadOver100MB_Is413DetectedWhileStreaming()
    {
        // No Content-Length: the server can only notice by counting as the file streams in.
        var wavHeader = TestAudio.SpeechLikeWav()[..44];
        var stream = new ConcatStream(wavHeader, new RepeatingStream(0, 101L * 1024 * 1024));
        var file = new StreamContent(stream);
        using var content = new MultipartFormDataContent { { file, "upload_file", "huge.wav" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/velma-2-stt-batch") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request);
        }
        catch (HttpRequestException)
        {
            // The server may answer 413 and close before the client finished sending; that is the point.
            return;
        }
        using (response)
        {
            await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large", null);
        }
    }

    [Theory]
    [InlineData("velma-2-synthetic-voice-detection-batch", HttpStatusCode.UnprocessableEntity)]
    [InlineData("velma-2-emotion-batch", HttpStatusCode.BadRequest)]
    public async Task UndecodableAudio_IsCouldNotBeProcessed_InTheStatusOfItsContract(string model, HttpStatusCode status)
    {
        using var response = await PostAsync(model, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "broken.wav");
        await AssertErrorAsync(response, status, "unprocessable_audio",
            "The audio could not be processed. It may be corrupted or in an unsupported format.");
    }

    [Theory]
    [InlineData("velma-2-accent-batch", "use_ensemble", HttpStatusCode.UnprocessableEntity)]
    [InlineData("velma-2-emotion-batch", "training_permitted", HttpStatusCode.UnprocessableEntity)]
    [InlineData("velma-2-stt-batch", "speaker_diarization", HttpStatusCode.BadRequest)]
    public async Task AMalformedBoolean_IsRefusedInTheStatusOfItsContract(string model, string field, HttpStatusCode status)
    {
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" },
            { new StringContent("maybe"), field },
        };
        using var response = await _client.PostAsync("api/" + model, content);
        await AssertErrorAsync(response, status, "invalid_parameter", "Invalid request.");
    }

    private async Task<HttpResponseMessage> PostAsync(string model, byte[] file, string fileName)
    {
        using var content = new MultipartFormDataContent { { new ByteArrayContent(file), "upload_file", fileName } };
        return await _client.PostAsync("api/" + model, content);
    }

    internal static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? code, string? detail)
    {
        var body = await AdminApiTests.ReadObjectAsync(response, status);
        if (code is not null)
        {
            Assert.Equal(code, body["code"]!.GetValue<string>());
        }
        if (detail is not null)
        {
            Assert.Equal(detail, body["detail"]!.GetValue<string>());
        }
        Assert.False(string.IsNullOrWhiteSpace(body["detail"]!.GetValue<string>()));
    }

    private static async Task<Dictionary<string, byte[]>> ReadMultipartAsync(HttpResponseMessage response, string _)
    {
        var boundary = response.Content.Headers.ContentType!.Parameters.First(p => p.Name == "boundary").Value!.Trim('"');
        var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, await response.Content.ReadAsStreamAsync());
        var parts = new Dictionary<string, byte[]>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var disposition = Microsoft.Net.Http.Headers.ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var memory = new MemoryStream();
            await section.Body.CopyToAsync(memory);
            parts[disposition.Name.Value!.Trim('"')] = memory.ToArray();
        }
        return parts;
    }
}
