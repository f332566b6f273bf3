using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tollgate.Dubbing;
using Tollgate.Infrastructure;

namespace Tollgate.Dubbing;

/// <summary>The Dubbing API as a user calls it: <c>Authorization: Api-Key &lt;key&gt;</c>, JSON answers.</summary>
public sealed class DubbingClient(TollgateServer server, string apiKey) : IDisposable
{
    public HttpClient Http { get; } = Create(server, apiKey);

    private static HttpClient Create(TollgateServer server, string apiKey)
    {
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Key", apiKey);
        return client;
    }

    public static MultipartFormDataContent Upload(byte[] audio, string targetLanguage = "es", string fileName = "talk.wav", string? voiceId = null)
    {
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(audio) { Headers = { ContentType = new MediaTypeHeaderValue("audio/wav") } }, "file", fileName },
            { new StringContent(targetLanguage), "targetLanguage" },
        };
        if (voiceId is not null)
        {
            form.Add(new StringContent(voiceId), "voiceId");
        }
        return form;
    }

    public async Task<(HttpStatusCode Status, JsonNode Body)> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!);
    }

    public Task<(HttpStatusCode Status, JsonNode Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string path, HttpContent? content = null) => SendAsync(HttpMethod.Post, path, content);

    public Task<(HttpStatusCode Status, JsonNode Body)> PostJsonAsync(string path, object body) => PostAsync(path, JsonContent.Create(body));

    /// <summary>Creates a dub from <paramref name="audio"/> and returns its id (asserting 201).</summary>
    public async Task<string> CreateDubAsync(byte[] audio, string targetLanguage = "es")
    {
        var (status, body) = await PostAsync("v1/me/dubs", Upload(audio, targetLanguage));
        Assert.True(status == HttpStatusCode.Created, $"{(int)status}: {body}");
        return body["dubId"]!.GetValue<string>();
    }

    /// <summary>Polls a dub (as a client would) until it reaches <paramref name="status"/>; fails on another final status.</summary>
    public async Task<JsonNode> WaitForDubAsync(string dubId, string status) =>
        await WaitForAsync($"v1/me/dubs/{dubId}", status, "dubId");

    public async Task<JsonNode> WaitForVoiceAsync(string voiceId, string status) =>
        await WaitForAsync($"v1/me/voices/{voiceId}", status, "voiceId");

    private async Task<JsonNode> WaitForAsync(string path, string status, string idField)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var (code, body) = await GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, code);
            var now = body["status"]!.GetValue<string>();
            if (now == status)
            {
                return body;
            }
            Assert.False(now is "done" or "error" or "ready", $"{body[idField]} ended '{now}' while waiting for '{status}': {body}");
            await Task.Delay(TimeSpan.FromMilliseconds(25), timeout.Token);
        }
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>Holds dubs at <c>processing</c> while <see cref="Holding"/> is set, so a test can stop the server mid-way.</summary>
public sealed class HoldingGate : IDubProcessingGate
{
    private readonly TaskCompletionSource<string> _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public volatile bool Holding = true;

    /// <summary>Completes with the id of the first dub held.</summary>
    public Task<string> Reached => _reached.Task;

    public async ValueTask WaitAsync(Dub dub, CancellationToken ct)
    {
        if (Holding)
        {
            _reached.TrySetResult(dub.Id);
            await Task.Delay(Timeout.Infinite, ct);
        }
    }
}
