using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Platform;

/// <summary>A Platform API caller: the accountuuid and apikey headers, JSON (base64) and multipart submissions, status polls.</summary>
public sealed class PlatformClient : IDisposable
{
    public const string Transcription = "velma-2-stt-batch";
    public const string Emotion = "velma-2-emotion-batch";
    public const string Accent = "velma-2-accent-batch";
    public const string Deepfake = "velma-2-synthetic-voice-detection-batch";

    public PlatformClient(TollgateServer server, string? account, string? apiKey)
    {
        Http = server.CreateClient();
        if (account is not null)
        {
            Http.DefaultRequestHeaders.Add("accountuuid", account);
        }
        if (apiKey is not null)
        {
            Http.DefaultRequestHeaders.Add("apikey", apiKey);
        }
    }

    public PlatformClient(TollgateServer server, TestKey key) : this(server, key.OrgId, key.Secret)
    {
    }

    public HttpClient Http { get; }

    public void Dispose() => Http.Dispose();

    /// <summary>A key entitled to transcription and every analysis model.</summary>
    public static Task<TestKey> FullKeyAsync(TollgateServer server, double hours = 10, string? orgId = null) =>
        server.CreateKeyAsync(new Dictionary<string, (int, double)>
        {
            [Transcription] = (5, hours), [Emotion] = (5, hours), [Accent] = (5, hours), [Deepfake] = (5, hours),
        }, orgId);

    public static JsonObject Body(byte[] audio, string extension = "wav", JsonObject? flags = null, string? jobId = null, bool? finalize = null, string? filename = null)
    {
        var body = new JsonObject { ["audio_base64"] = Convert.ToBase64String(audio), ["file_extension"] = extension };
        if (flags is not null)
        {
            body["flags"] = flags.DeepClone();
        }
        if (jobId is not null)
        {
            body["job_id"] = jobId;
        }
        if (finalize is { } f)
        {
            body["finalize_job"] = f;
        }
        if (filename is not null)
        {
            body["filename"] = filename;
        }
        return body;
    }

    public Task<(HttpStatusCode Status, JsonObject Body)> PostJsonAsync(JsonObject body) => PostRawAsync(body.ToJsonString());

    public async Task<(HttpStatusCode Status, JsonObject Body)> PostRawAsync(string json, string mediaType = "application/json")
    {
        using var content = new StringContent(json, Encoding.UTF8, mediaType);
        using var response = await Http.PostAsync("api_service", content);
        return (response.StatusCode, await ReadAsync(response));
    }

    public async Task<(HttpStatusCode Status, JsonObject Body)> PostMultipartAsync(byte[] audio, string fileName = "clip.wav", IDictionary<string, string>? fields = null)
    {
        using var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(audio);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(file, "file", fileName);
        foreach (var (name, value) in fields ?? new Dictionary<string, string>())
        {
            content.Add(new StringContent(value), name);
        }
        using var response = await Http.PostAsync("api_service", content);
        return (response.StatusCode, await ReadAsync(response));
    }

    public async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> StatusAsync(string jobId)
    {
        var response = await Http.GetAsync($"api_service/job_status/{jobId}");
        var body = await ReadAsync(response);
        return (response.StatusCode, body, response);
    }

    /// <summary>Polls (without sleeping for a window: the worker runs on its own) until the job is in <paramref name="status"/>.</summary>
    public async Task<JsonObject> WaitForAsync(string jobId, string status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var (code, body, response) = await StatusAsync(jobId);
            response.Dispose();
            Assert.Equal(HttpStatusCode.OK, code);
            if (body["status"]!.GetValue<string>() == status)
            {
                return body;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Job {jobId} did not reach {status}: {body.ToJsonString()}");
            }
            await Task.Delay(50);
        }
    }

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!.AsObject();
    }

    public static void AssertError(HttpStatusCode expected, string code, (HttpStatusCode Status, JsonObject Body) answer)
    {
        Assert.True(expected == answer.Status, $"expected {(int)expected} {code}, got {(int)answer.Status}: {answer.Body.ToJsonString()}");
        Assert.Equal(code, answer.Body["code"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(answer.Body["detail"]?.GetValue<string>()));
        Assert.Equal(2, answer.Body.Count);
    }
}

/// <summary>Holds every Platform job before its files are processed, until released (so a test can restart the server mid-job).</summary>
public sealed class HoldingPlatformGate : IPlatformProcessingGate
{
    private readonly TaskCompletionSource<string> _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public volatile bool Holding = true;

    public Task<string> Reached => _reached.Task;

    public async ValueTask WaitAsync(PlatformJob job, CancellationToken ct)
    {
        if (Holding)
        {
            _reached.TrySetResult(job.Id);
            await Task.Delay(Timeout.Infinite, ct);
        }
    }
}
