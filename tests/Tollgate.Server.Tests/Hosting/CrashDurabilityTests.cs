using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tollgate.Infrastructure;

namespace Tollgate.Hosting;

/// <summary>A kill -9 right after answers were given loses none of their charges, keys or organizations.</summary>
public sealed class CrashDurabilityTests : IDisposable
{
    private const string AdminToken = "crash-admin-token-0123456789";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-crash", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task KillMinus9_AfterChargedAnswers_LosesNoUsage()
    {
        Directory.CreateDirectory(_directory);
        var environment = new Dictionary<string, string> { ["Tollgate__Admin__Token"] = AdminToken };
        string orgId;
        string key;
        await using (var first = await ServerProcess.StartAsync(_directory, environment))
        {
            var output = await first.WaitForOutputAsync("====\n", TimeSpan.FromSeconds(60), occurrences: 2);
            key = Regex.Match(output, @"\b(tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6})").Groups[1].Value;
            using var admin = Admin(first.Address!);
            orgId = (await admin.GetFromJsonAsync<JsonObject>("admin/orgs"))!["items"]![0]!["id"]!.GetValue<string>();

            using var client = new HttpClient { BaseAddress = new Uri(first.Address! + "/") };
            client.DefaultRequestHeaders.Add("X-API-Key", key);
            for (var i = 0; i < 3; i++)
            {
                using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
                using var response = await client.PostAsync("api/velma-2-stt-batch", content);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            first.Kill();
        }

        await using var second = await ServerProcess.StartAsync(_directory, environment);
        using var after = Admin(second.Address!);
        var report = await after.GetFromJsonAsync<JsonObject>($"admin/orgs/{orgId}/usage");
        var stt = report!["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == "velma-2-stt-batch")!;
        Assert.Equal(9_000, stt["used_ms"]!.GetValue<long>());
        Assert.Equal(3, stt["charges"]!.GetValue<long>());
    }

    private static HttpClient Admin(string address)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }
}
