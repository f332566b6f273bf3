using System.Net;
using System.Net.Http.Json;
using Tollgate.Admin;
using Tollgate.Infrastructure;

namespace Tollgate.Admission;

/// <summary>DESIGN 3.1: 401 for missing/malformed/unknown/revoked keys, 403 outside the entitlements, WebSocket 4001/4003.</summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private const string Presets = "api/velma-2-batch/list-presets";
    private TollgateServer _server = null!;
    private TestKey _key = null!;

    public async Task InitializeAsync()
    {
        _server = await TollgateServer.StartAsync();
        _key = await _server.CreateKeyAsync(new Dictionary<string, (int, double)>
        {
            ["velma-2-batch"] = (5, 10),
            ["velma-2-stt-streaming"] = (5, 10),
        });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string?, string> BadKeys => new()
    {
        { null, "missing_api_key" },
        { "", "missing_api_key" },
        { "not-a-key", "malformed_api_key" },
        { "tgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_AAAAAA", "malformed_api_key" },
        { Tollgate.Identity.ApiKeys.Generate(), "unknown_api_key" },
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task Http_BadKey_Is401WithDetailAndCode(string? key, string code)
    {
        using var client = _server.CreateClient(key);
        using var response = await client.GetAsync(Presets);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await AdminApiTests.ReadObjectAsync(response);
        Assert.Equal(code, body["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(body["detail"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Http_ValidKey_IsAdmitted()
    {
        using var client = _server.CreateClient(_key.Secret);
        using var response = await client.GetAsync(Presets);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Http_ModelOutsideEntitlements_Is403()
    {
        using var client = _server.CreateClient(_key.Secret);
        using var content = new MultipartFormDataContent { { new ByteArrayContent(new byte[100]), "upload_file", "a.wav" } };
        using var response = await client.PostAsync("api/velma-2-emotion-batch", content);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("model_not_permitted", (await AdminApiTests.ReadObjectAsync(response))["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task SyntheticVoiceBatch_BadKey_Is403AsItsContractSays_WithTheCauseInTheCode()
    {
        using var client = _server.CreateClient("nonsense");
        using var content = new MultipartFormDataContent { { new ByteArrayContent(new byte[100]), "upload_file", "a.wav" } };
        using var response = await client.PostAsync("api/velma-2-synthetic-voice-detection-batch", content);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("malformed_api_key", (await AdminApiTests.ReadObjectAsync(response))["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task RevokedKey_Is401_Immediately()
    {
        using (var client = _server.CreateClient(_key.Secret))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Presets)).StatusCode);
        }
        using var admin = _server.CreateAdminClient();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"admin/keys/{_key.KeyId}")).StatusCode);
        using var after = _server.CreateClient(_key.Secret);
        using var response = await after.GetAsync(Presets);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("revoked_api_key", (await AdminApiTests.ReadObjectAsync(response))["code"]!.GetValue<string>());
        var inspected = await admin.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"admin/keys/{_key.KeyId}");
        Assert.NotNull(inspected!["revoked_at"]);
    }

    [Theory]
    [InlineData("", 4001, "missing_api_key")]
    [InlineData("?api_key=garbage", 4001, "malformed_api_key")]
    public async Task WebSocket_BadKey_SendsErrorThenCloses4001(string query, int closeCode, string code)
    {
        await using var session = await WebSocketSession.ConnectAsync(_server.WebSocketUri("/api/velma-2-stt-streaming" + query));
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(closeCode, received.CloseCode);
        var error = Assert.Single(received.Messages);
        Assert.Equal("error", error["type"]!.GetValue<string>());
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["error"]!.GetValue<string>()));
    }

    [Fact]
    public async Task WebSocket_ModelOutsideEntitlements_Closes4003AfterAnErrorMessage()
    {
        await using var session = await WebSocketSession.ConnectAsync(
            _server.WebSocketUri($"/api/velma-2-music-detection-streaming?api_key={_key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1"));
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(4003, received.CloseCode);
        Assert.Equal("model_not_permitted", Assert.Single(received.Messages)["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keys_NeverReachTheLogs_NotEvenFromAWebSocketQueryString()
    {
        using (var client = _server.CreateClient(_key.Secret))
        {
            await client.GetAsync(Presets);
        }
        await using (var session = await WebSocketSession.ConnectAsync(_server.WebSocketUri($"/api/velma-2-stt-streaming?api_key={_key.Secret}")))
        {
            await session.SendTextAsync("");
            await session.ReadUntilClosedAsync();
        }
        // A WebSocket to a path that is not a channel (refused one way or another): its URL must not be logged either.
        try
        {
            await using var refused = await WebSocketSession.ConnectAsync(_server.WebSocketUri($"/api/velma-2-emotion-batch?api_key={_key.Secret}"));
            await refused.ReadUntilClosedAsync();
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            // The handshake itself was refused.
        }
        Assert.NotEmpty(_server.Logs);
        var leaked = _server.Logs.Where(line => line.Contains(_key.Secret, StringComparison.Ordinal) || line.Contains(_key.Secret[..20], StringComparison.Ordinal)).ToList();
        Assert.Empty(leaked);
    }
}
