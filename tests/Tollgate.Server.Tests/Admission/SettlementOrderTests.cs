using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tollgate.Hosting;
using Tollgate.Infrastructure;

namespace Tollgate.Admission;

/// <summary>
/// DESIGN 3.2's ordering: a metered request's charge is durable and its lease free before the client sees the end of
/// the answer — the last byte of a 200, or a WebSocket's close frame — whichever backend wrote it.
/// </summary>
public sealed class SettlementOrderTests
{
    private const string Streaming = "velma-2-stt-streaming";
    private const string Batch = "velma-2-stt-batch";

    [Fact]
    public async Task AClientThatReconnectsAtOnceAfterAClose_FindsItsSlotFree_ThirtyTimesOutOfThirty()
    {
        await using var server = await TollgateServer.StartAsync();
        var key = await server.CreateKeyAsync(Streaming, concurrency: 1);
        var uri = server.WebSocketUri($"/api/{Streaming}?api_key={key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1");
        var audio = TestAudio.S16Le(TestAudio.Samples(16_000, 0.5, (0.1, 0.4)));
        for (var i = 0; i < 30; i++)
        {
            await using var session = await WebSocketSession.ConnectAsync(uri);
            await session.SendAudioAsync(audio);
            await session.SendTextAsync("");
            var received = await session.ReadUntilClosedAsync();
            Assert.True(received.CloseCode == 1000, $"connection {i + 1}: closed {received.CloseCode} {string.Join(",", received.Types)}");
            Assert.Equal("done", received.Types.Last());
        }
        var usage = await Usage.ForModelAsync(server, key.OrgId, Streaming);
        Assert.Equal((30L, 15_000L), (usage["charges"]!.GetValue<long>(), usage["used_ms"]!.GetValue<long>()));
    }

    [Fact]
    public async Task AStreamCutOffAtTheQuota_IsChargedBeforeItsCloseFrame()
    {
        await using var server = await TollgateServer.StartAsync();
        var key = await server.CreateKeyAsync(Streaming, concurrency: 1, hours: 2.5 / 3600);
        var uri = server.WebSocketUri($"/api/{Streaming}?api_key={key.Secret}&audio_format=s16le&sample_rate=16000&num_channels=1");
        await using var session = await WebSocketSession.ConnectAsync(uri);
        await session.SendAudioAsync(TestAudio.S16Le(TestAudio.Samples(16_000, 4.0, (0.5, 3.5))), frameSize: 3200);
        var received = await session.ReadUntilClosedAsync();
        Assert.Equal(4029, received.CloseCode);

        // Read at once after the close: the charge is already in the ledger and the slot is free.
        var usage = await Usage.ForModelAsync(server, key.OrgId, Streaming);
        Assert.Equal((2_500L, 1L, 0), (usage["used_ms"]!.GetValue<long>(), usage["charges"]!.GetValue<long>(), usage["in_flight"]!.GetValue<int>()));
    }

    [Fact]
    public async Task KillMinus9_TheMomentA200BodyIsComplete_LosesNoCharge()
    {
        const string adminToken = "settle-admin-token-0123456789";
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-settle", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var environment = new Dictionary<string, string> { ["Tollgate__Admin__Token"] = adminToken };
        string? orgId = null;
        string? key = null;
        try
        {
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                await using var server = await ServerProcess.StartAsync(directory, environment);
                if (key is null)
                {
                    var output = await server.WaitForOutputAsync("====\n", TimeSpan.FromSeconds(60), occurrences: 2);
                    key = Regex.Match(output, @"\b(tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6})").Groups[1].Value;
                    using var admin = Admin(server.Address!, adminToken);
                    orgId = (await admin.GetFromJsonAsync<JsonObject>("admin/orgs"))!["items"]![0]!["id"]!.GetValue<string>();
                }
                else
                {
                    Assert.Equal((attempt - 1) * 3_000L, await UsedMsAsync(server.Address!, adminToken, orgId!));
                }
                // The first upload after a start: the body is read to its end, then the server dies at once.
                using var client = new HttpClient { BaseAddress = new Uri(server.Address! + "/") };
                client.DefaultRequestHeaders.Add("X-API-Key", key);
                using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
                using var response = await client.PostAsync("api/" + Batch, content);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(3_000, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["duration_ms"]!.GetValue<long>());
                server.Kill();
            }
            await using var last = await ServerProcess.StartAsync(directory, environment);
            Assert.Equal(9_000, await UsedMsAsync(last.Address!, adminToken, orgId!));
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<long> UsedMsAsync(string address, string token, string orgId)
    {
        using var admin = Admin(address, token);
        var report = await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{orgId}/usage");
        return report!["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == Batch)!["used_ms"]!.GetValue<long>();
    }

    private static HttpClient Admin(string address, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
