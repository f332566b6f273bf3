using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Tollgate.Infrastructure;

namespace Tollgate.Hosting;

/// <summary>
/// What a kill -9 leaves on disk is gone after the next start: the upload that was being spooled, the temporary file of
/// a blob write cut short, and a dubbing file whose dub was never recorded; what a record still names is kept.
/// </summary>
public sealed class CrashLeftoverTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-leftovers", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task AfterKillMinus9MidUpload_TheNextStartLeavesAnEmptySpool_AndNoOrphanedFiles()
    {
        Directory.CreateDirectory(_directory);
        var environment = new Dictionary<string, string> { ["Tollgate__Leftovers__MinimumAge"] = "0s" };
        var spool = Path.Combine(_directory, "spool");
        var dubbing = Path.Combine(_directory, "dubbing");
        string kept;
        await using (var first = await ServerProcess.StartAsync(_directory, environment))
        {
            var output = await first.WaitForOutputAsync("====\n", TimeSpan.FromSeconds(60), occurrences: 2);
            var key = Regex.Match(output, @"\b(tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6})").Groups[1].Value;
            kept = await CreateDubAsync(first.Address!, key);

            // Killed while an upload is half spooled.
            await using var stalled = await StalledUpload.StartAsync(new Uri(first.Address!), "api/velma-2-stt-batch", key, TestAudio.SpeechLikeWav());
            await WaitForAsync(() => Directory.Exists(spool) && Directory.EnumerateFiles(spool).Any());
            first.Kill();
            await first.WaitForExitAsync();
        }
        Assert.NotEmpty(Directory.EnumerateFiles(spool));
        // What a crash also leaves: a blob write cut short, and an input stored just before its dub was recorded.
        File.WriteAllText(Path.Combine(dubbing, ".orphan.input.1a2b.tmp"), "partial");
        File.WriteAllText(Path.Combine(dubbing, "dub_neverrecorded.input"), "no dub names this");

        await using var second = await ServerProcess.StartAsync(_directory, environment);

        Assert.Empty(Directory.EnumerateFiles(spool));
        Assert.Equal([kept + ".input"], Directory.EnumerateFiles(dubbing).Select(Path.GetFileName).Order());
        Assert.Contains("Removed what the previous run left: 1 upload(s)", second.Output);
        Assert.Contains("1 unfinished blob write(s)", second.Output);
        Assert.Contains("Removed 1 dubbing file(s) no dub or voice refers to", second.Output);
    }

    private static async Task<string> CreateDubAsync(string address, string key)
    {
        using var client = new HttpClient { BaseAddress = new Uri(address + "/") };
        client.DefaultRequestHeaders.Add("Authorization", "Api-Key " + key);
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestAudio.SpeechLikeWav()) { Headers = { ContentType = new("audio/wav") } }, "file", "a.wav" },
            { new StringContent("es"), "targetLanguage" },
        };
        using var created = await client.PostAsync("v1/me/dubs", form);
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, body);
        return Regex.Match(body, "\"dubId\":\"([^\"]+)\"").Groups[1].Value;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "gave up waiting");
            await Task.Delay(20);
        }
    }
}
