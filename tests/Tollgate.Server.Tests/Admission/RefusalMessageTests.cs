using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Admission;

/// <summary>
/// Refusals that say what happened: a credential sent in another surface's style is named (never its value) beside what
/// this surface expects; a pooled quota refusal says how much the organization used this month, through how many keys.
/// </summary>
public sealed class RefusalMessageTests : IAsyncLifetime
{
    private const string Model = "velma-2-stt-batch";
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<(HttpStatusCode Status, string Code, string Detail)> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using var response = await client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, body["code"]!.GetValue<string>(), body["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task ACredentialInAnotherSurfacesStyle_IsNamed_WithWhatThisSurfaceExpects()
    {
        var key = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { ["velma-2-batch"] = (5, 1) });
        using var client = _server.CreateClient();

        var toDubbing = new HttpRequestMessage(HttpMethod.Get, "v1/me");
        toDubbing.Headers.Add("X-API-Key", key.Secret);
        var (status, code, detail) = await SendAsync(client, toDubbing);
        Assert.Equal((HttpStatusCode.Unauthorized, "missing_api_key"), (status, code));
        Assert.Equal("Missing API key for the Dubbing API: an X-API-Key header (the Models API's style) was sent, but the Dubbing API does not read it; "
            + "send it as Authorization: Api-Key <key>.", detail);

        var bearer = new HttpRequestMessage(HttpMethod.Get, "v1/me");
        bearer.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key.Secret);
        (_, _, detail) = await SendAsync(client, bearer);
        Assert.Contains("an Authorization: Bearer header", detail);
        Assert.Contains("Authorization: Api-Key <key>", detail);

        var toModels = new HttpRequestMessage(HttpMethod.Get, "api/velma-2-batch/list-presets");
        toModels.Headers.TryAddWithoutValidation("Authorization", "Api-Key " + key.Secret);
        (status, code, detail) = await SendAsync(client, toModels);
        Assert.Equal((HttpStatusCode.Unauthorized, "missing_api_key"), (status, code));
        Assert.Contains("an Authorization: Api-Key header (the Dubbing API's style) was sent", detail);
        Assert.Contains("send it in the X-API-Key header", detail);

        var platformStyle = new HttpRequestMessage(HttpMethod.Get, "api/velma-2-batch/list-presets");
        platformStyle.Headers.Add("apikey", key.Secret);
        (_, _, detail) = await SendAsync(client, platformStyle);
        Assert.Contains("an apikey header (the Platform API's style)", detail);
        Assert.DoesNotContain(key.Secret[4..], detail);

        // Nothing at all: the plain message, as before.
        (_, _, detail) = await SendAsync(client, new HttpRequestMessage(HttpMethod.Get, "v1/me"));
        Assert.Equal("Missing API key: send it as Authorization: Api-Key <key>.", detail);
    }

    [Fact]
    public async Task AStreamSentTheKeyInAHeader_IsToldToPutItInTheUrl()
    {
        var key = await _server.CreateKeyAsync("velma-2-stt-streaming");
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("X-API-Key", key.Secret);
        await socket.ConnectAsync(_server.WebSocketUri("/api/velma-2-stt-streaming?audio_format=s16le&sample_rate=16000&num_channels=1"), CancellationToken.None);
        var buffer = new byte[4096];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
        var message = JsonNode.Parse(buffer.AsSpan(0, result.Count))!;
        Assert.Equal("missing_api_key", message["code"]!.GetValue<string>());
        Assert.Contains("an X-API-Key header", message["error"]!.GetValue<string>());
        Assert.Contains("pass it as the api_key query parameter", message["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task APooledQuotaRefusal_SaysHowMuchTheOrganizationUsed_AndThroughHowManyKeys()
    {
        var hours = 4_000 / 3_600_000d;
        var first = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Model] = (5, hours) });
        var second = await _server.CreateKeyAsync(new Dictionary<string, (int, double)> { [Model] = (5, hours) }, orgId: first.OrgId);
        Assert.NotEqual(first.UserId, second.UserId);

        async Task<(HttpStatusCode, JsonNode)> PostAsync(TestKey key, double seconds)
        {
            using var client = _server.CreateClient(key.Secret);
            using var content = new MultipartFormDataContent
            {
                { new ByteArrayContent(TestAudio.Wav(TestAudio.Samples(16_000, seconds), 16_000)), "upload_file", "a.wav" },
            };
            using var response = await client.PostAsync($"api/{Model}", content);
            return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(first, 3.0)).Item1);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(second, 1.0)).Item1);
        // The second key has used 1 s of its 4 s, but the pool is used up, by the other key mostly.
        var (status, body) = await PostAsync(second, 1.0);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("quota_exceeded", body["code"]!.GetValue<string>());
        var detail = body["detail"]!.GetValue<string>();
        Assert.Contains("0 audio hours remain", detail);
        Assert.Contains($"This organization has used 0.0011 audio hours (4000 ms) of {Model} this month, through 2 keys.", detail);
    }
}
