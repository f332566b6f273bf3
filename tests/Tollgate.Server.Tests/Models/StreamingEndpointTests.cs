using System.Text.Json.Nodes;
using Tollgate.Contracts;
using Tollgate.Infrastructure;
using Tollgate.Models;

namespace Tollgate.Models;

/// <summary>The 7 streaming channels on a real server: the documented flow, contract-valid events, exact durations, close codes.</summary>
public sealed class StreamingEndpointTests : IAsyncLifetime
{
    private const string Raw16k = "audio_format=s16le&sample_rate=16000&num_channels=1";
    private TollgateServer _server = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _server = await TollgateServer.StartAsync();
        _key = (await _server.CreateKeyAsync(ModelCatalog.Names.ToDictionary(n => n, _ => (5, 10.0)))).Secret;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string> Channels => new()
    {
        { "velma-2-streaming", "modulate-velma-2-streaming-asyncapi.yml" },
        { "velma-2-stt-streaming", "modulate-stt-streaming-asyncapi.yml" },
        { "velma-2-stt-streaming-english-v2", "modulate-stt-streaming-english-v2-asyncapi.yml" },
        { "velma-2-pii-phi-redaction-streaming", "modulate-pii-phi-redaction-streaming-asyncapi.yml" },
        { "velma-2-synthetic-voice-detection-streaming", "modulate-synthetic-voice-detection-streaming-asyncapi.yml" },
        { "velma-2-music-detection-streaming", "modulate-music-detection-streaming-asyncapi.yml" },
        { "velma-2-ai-music-detection-streaming", "modulate-ai-music-detection-streaming-asyncapi.yml" },
    };

    [Theory]
    [MemberData(nameof(Channels))]
    public async Task RawAudio_InOddFrames_EndsWithDone_ExactDuration_AndContractValidEvents(string model, string contractFile)
    {
        var contract = ContractDocument.AsyncApi(contractFile);
        var audio = TestAudio.S16Le(TestAudio.Samples(16_000, 6.0, (0.5, 2.5), (3.0, 5.5)));
        await using var session = await ConnectAsync(model, Raw16k);
        if (model == "velma-2-streaming")
        {
            await session.SendTextAsync("default");
        }
        await session.SendAudioAsync(audio, frameSize: 3_333);
        await session.SendTextAsync("");
        var received = await session.ReadUntilClosedAsync();

        Assert.Equal(1000, received.CloseCode);
        var done = received.Messages.Last();
        Assert.Equal("done", done["type"]!.GetValue<string>());
        Assert.Equal(6000, done["duration_ms"]!.GetValue<long>());
        var schemas = MessageSchemas(contract);
        foreach (var message in received.Messages)
        {
            var type = message["type"]!.GetValue<string>();
            Assert.True(schemas.ContainsKey(type), $"{model} sent a '{type}' message its contract does not define");
            contract.AssertValid(message, schemas[type]);
        }
        Assert.DoesNotContain("error", received.Types);
    }

    [Fact]
    public async Task Stt_FirstFrameConfig_IsAccepted_AndUtterancesFollowTheBursts()
    {
        await using var session = await ConnectAsync("velma-2-stt-streaming", Raw16k);
        await session.SendTextAsync("""{"emotion_signal": true, "language": "fr"}""");
        await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 6.0, (0.5, 2.5), (3.0, 5.5))));
        await session.SendTextAsync("");
        var received = await session.ReadUntilClosedAsync();
        var utterances = received.Messages.Where(m => m["type"]!.GetValue<string>() == "utterance").ToList();
        Assert.Equal(2, utterances.Count);
        Assert.All(utterances, u => Assert.Equal("fr", u["utterance"]!["language"]!.GetValue<string>()));
        Assert.InRange(utterances[0]["utterance"]!["start_ms"]!.GetValue<long>(), 400, 600);
    }

    [Fact]
    public async Task WavContainer_AutoDetected_GivesItsDuration()
    {
        await using var session = await ConnectAsync("velma-2-stt-streaming", "");
        await session.SendAudioAsync(TestAudio.SpeechLikeWav(), frameSize: 1000);
        await session.SendTextAsync("");
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(3000, received.Messages.Last()["duration_ms"]!.GetValue<long>());
    }

    [Fact]
    public async Task Pii_Mp3Stream_IsSegmented_AndItsClipsAreMp3OfTheirStatedLength()
    {
        await using var session = await ConnectAsync("velma-2-pii-phi-redaction-streaming", "audio_format=mp3");
        await session.SendAudioAsync(TestAudio.Encode("mp3", 4.0, "-c:a", "libmp3lame", "-b:a", "64k"), frameSize: 2000);
        await session.SendTextAsync("");
        var received = await session.ReadUntilClosedAsync();

        Assert.Equal(1000, received.CloseCode);
        Assert.Equal(["utterance", "utterance", "done"], received.Types);
        Assert.Equal(4000, received.Messages.Last()["duration_ms"]!.GetValue<long>());
        var windows = received.Messages.Select(m => (m["redacted_audio"] ?? m["trailing_redacted_audio"])!["duration_ms"]!.GetValue<long>()).ToList();
        Assert.Equal(windows.Count, received.Binaries.Count);
        for (var i = 0; i < windows.Count; i++)
        {
            Assert.Equal(("mp3", windows[i]), TestAudio.ProbeMp3(received.Binaries[i]));
        }
    }

    [Fact]
    public async Task CompressedContainer_IsDecodedToItsRealDuration()
    {
        await using var session = await ConnectAsync("velma-2-music-detection-streaming", "audio_format=ogg");
        await session.SendAudioAsync(TestAudio.Encode("ogg", 4.0, "-c:a", "libvorbis"));
        await session.SendTextAsync("");
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(1000, received.CloseCode);
        Assert.InRange(received.Messages.Last()["duration_ms"]!.GetValue<long>(), 3950, 4050);
    }

    public static TheoryData<string, string, string> BadQueries => new()
    {
        { "velma-2-stt-streaming", "audio_format=mp4",
          "Invalid audio_format='mp4'. Valid values: ['aac', 'aiff', 'alaw', 'f32be', 'f32le', 'f64be', 'f64le', 'flac', 'mp3', 'mulaw', 'ogg', 's16be', 's16le', 's24be', 's24le', 's32be', 's32le', 's8', 'u16be', 'u16le', 'u24be', 'u24le', 'u32be', 'u32le', 'u8', 'wav', 'webm']" },
        { "velma-2-stt-streaming", "audio_format=s16le", "Raw audio formats require sample_rate and num_channels query parameters" },
        { "velma-2-stt-streaming", "sample_rate=16000", "sample_rate and num_channels require audio_format to be specified" },
        { "velma-2-stt-streaming", "audio_format=s16le&sample_rate=50000&num_channels=1",
          "Invalid sample_rate=50000. Valid values: [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000]" },
        { "velma-2-stt-streaming", "audio_format=s16le&sample_rate=16000&num_channels=12", "Invalid num_channels=12. Must be between 1 and 8" },
        { "velma-2-music-detection-streaming", "",
          "audio_format query parameter is required. Example: audio_format=s16le&sample_rate=16000&num_channels=1" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task BadQueryParameters_Close1003_AfterTheContractsMessage(string model, string query, string error)
    {
        await using var session = await ConnectAsync(model, query);
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(1003, received.CloseCode);
        var message = Assert.Single(received.Messages);
        Assert.Equal("error", message["type"]!.GetValue<string>());
        Assert.Equal(error, message["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task UndecodableAudio_OnA4002Channel_Closes4002()
    {
        await using var session = await ConnectAsync("velma-2-synthetic-voice-detection-streaming", "audio_format=wav");
        await session.SendAudioAsync(Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7)).ToArray());
        await session.SendTextAsync("");
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(4002, received.CloseCode);
        Assert.Equal("error", Assert.Single(received.Messages)["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Velma2_AudioBeforeConfig_Closes1003()
    {
        await using var session = await ConnectAsync("velma-2-streaming", Raw16k);
        await session.SendAudioAsync(new byte[3200]);
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(1003, received.CloseCode);
    }

    [Fact]
    public async Task StreamingListPresets_AnswersTheContractSchema()
    {
        using var client = _server.CreateClient(_key);
        var body = JsonNode.Parse(await client.GetStringAsync("api/velma-2-streaming/list-presets"));
        var contract = ContractDocument.AsyncApi("modulate-velma-2-streaming-asyncapi.yml");
        contract.AssertValid(body, "#/components/schemas/ListPresetsResponse");
    }

    [Fact]
    public async Task PlainHttpGetOnAChannel_Is400()
    {
        using var client = _server.CreateClient(_key);
        using var response = await client.GetAsync("api/velma-2-stt-streaming");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    private Task<WebSocketSession> ConnectAsync(string model, string query) =>
        WebSocketSession.ConnectAsync(_server.WebSocketUri($"/api/{model}?api_key={_key}" + (query.Length > 0 ? "&" + query : "")));

    /// <summary>Each server message schema of an AsyncAPI document, by its <c>type</c> constant.</summary>
    internal static Dictionary<string, JsonNode> MessageSchemas(ContractDocument contract)
    {
        var result = new Dictionary<string, JsonNode>();
        foreach (var (_, message) in contract.Resolve("#/components/messages").AsObject())
        {
            var payload = message!["payload"];
            if (payload?["$ref"] is { } reference)
            {
                payload = contract.Resolve(reference.GetValue<string>());
            }
            if (payload?["properties"]?["type"]?["const"] is { } type)
            {
                result[type.GetValue<string>()] = payload;
            }
        }
        return result;
    }
}
