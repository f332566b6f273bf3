using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Backends.Reference.Codecs.Mp3;
using Tollgate.Infrastructure;
using Tollgate.Models;

namespace Tollgate.Backends;

/// <summary>A server whose machine lacks libmp3lame: it says so at start-up, and the redaction calls refuse rather than send another format.</summary>
public sealed class Mp3EncoderCheckTests : IAsyncLifetime
{
    private TollgateServer _server = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        // The real check, pointed at a library that does not exist, as on a machine without libmp3lame0.
        var missing = Mp3Encoder.Check("libmp3lame-missing.so.0");
        _server = await TollgateServer.StartAsync(services: s => s.AddSingleton(missing));
        _key = (await _server.CreateKeyAsync(ModelCatalog.Names.ToDictionary(n => n, _ => (5, 10.0)))).Secret;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public void StartUp_LogsOneLineNamingThePackage()
    {
        var line = Assert.Single(_server.Logs, l => l.Contains("MP3 encoding", StringComparison.Ordinal));
        Assert.Contains("apt-get install libmp3lame0", line);
    }

    [Fact]
    public async Task RedactionBatch_Answers503_InTheErrorShape()
    {
        using var client = _server.CreateClient(_key);
        using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "call.wav" } };

        using var response = await client.PostAsync("api/velma-2-pii-phi-redaction-batch", content);

        await Models.BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "mp3_encoder_unavailable", null);
    }

    [Fact]
    public async Task RedactionStream_ClosesWithTheErrorMessage()
    {
        await using var session = await WebSocketSession.ConnectAsync(
            _server.WebSocketUri($"/api/velma-2-pii-phi-redaction-streaming?api_key={_key}&audio_format=s16le&sample_rate=16000&num_channels=1"));
        await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 1.0, (0.2, 0.8))));

        var received = await session.ReadUntilClosedAsync();

        Assert.Equal(1011, received.CloseCode);
        var error = Assert.Single(received.Messages);
        Assert.Equal(("error", "mp3_encoder_unavailable"), (error["type"]!.GetValue<string>(), error["code"]!.GetValue<string>()));
        Assert.Contains("apt-get install libmp3lame0", error["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task OtherModels_AreUnaffected()
    {
        using var client = _server.CreateClient(_key);
        using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "call.wav" } };

        using var response = await client.PostAsync("api/velma-2-stt-batch", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
