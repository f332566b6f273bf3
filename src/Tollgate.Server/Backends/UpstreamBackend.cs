using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Backends;

/// <summary>
/// Forwards to the model's upstream: batch calls are re-sent as multipart (the spooled file streams from disk)
/// with Tollgate's own upstream key, and the upstream's answer is streamed back unchanged.
/// </summary>
internal sealed partial class UpstreamBackend(Uri baseUrl, string? apiKey, IHttpClientFactory httpClients, ILogger<UpstreamBackend> logger) : IModelBackend
{
    private static readonly HashSet<string> SkippedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Connection", "Keep-Alive", "Content-Length", "Server", "Date",
    };

    public Uri BaseUrl => baseUrl;

    public string? ApiKey => apiKey;

    public async Task<BackendOutcome> HandleBatchAsync(BatchCall call, HttpContext context)
    {
        var upload = call.Upload;
        upload.File!.Seek(0, SeekOrigin.Begin);
        using var content = new MultipartFormDataContent();
        var fileContent = new StreamContent(new NonDisposingStream(upload.File), 64 * 1024);
        fileContent.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(fileContent, "upload_file", upload.FileName ?? "audio." + (upload.Extension.Length > 0 ? upload.Extension : "bin"));
        foreach (var (name, value) in upload.Fields)
        {
            content.Add(new StringContent(value), name);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "api/" + call.Model.Name)) { Content = content };
        if (!string.IsNullOrEmpty(apiKey))
        {
            request.Headers.Add("X-API-Key", apiKey);
        }
        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient(BackendServiceCollectionExtensions.UpstreamClient)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException ex)
        {
            LogUpstreamFailed(logger, ex, call.Model.Name);
            await ApiError.WriteAsync(context, StatusCodes.Status502BadGateway, ErrorCodes.UpstreamUnavailable, "Unable to complete the request. Please try again.");
            return new BackendOutcome(false, 0);
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var header in response.Headers.Concat(response.Content.Headers))
            {
                if (!SkippedResponseHeaders.Contains(header.Key))
                {
                    context.Response.Headers[header.Key] = header.Value.ToArray();
                }
            }
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            await body.CopyToAsync(context.Response.Body, context.RequestAborted);
            return new BackendOutcome(response.IsSuccessStatusCode, response.IsSuccessStatusCode ? call.Audio.DurationMs : 0);
        }
    }

    public async Task<BackendOutcome> HandleStreamAsync(StreamCall call, WebSocket client, CancellationToken ct)
    {
        using var upstream = new ClientWebSocket();
        try
        {
            await upstream.ConnectAsync(StreamUri(call), ct);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException)
        {
            LogUpstreamFailed(logger, ex, call.Model.Name);
            await Rejection.SendErrorAndCloseAsync(client, (int)WebSocketCloseStatus.InternalServerError, ErrorCodes.UpstreamUnavailable,
                "The service is temporarily unavailable. Please try again later.", ct);
            return new BackendOutcome(false, 0);
        }
        using var relay = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var done = new DoneWatcher();
        var toUpstream = PumpAsync(client, upstream, null, relay, RawAudioMeter(call, client, ct));
        var toClient = PumpAsync(upstream, client, done, relay, null);
        await Task.WhenAll(toUpstream, toClient);
        // Raw audio is metered as it passes; other formats are charged what the upstream's done says (capped by the quota).
        return new BackendOutcome(done.DurationMs is not null, done.DurationMs ?? call.Meter.AcceptedMs);
    }

    /// <summary>
    /// For raw formats the gateway knows the duration of every frame (bytes ÷ frame size ÷ rate), so it meters the
    /// stream as it passes and cuts it off — error and 4029 to the client — when the month's audio runs out.
    /// </summary>
    private static Func<WebSocketMessage, Task<bool>>? RawAudioMeter(StreamCall call, WebSocket client, CancellationToken ct)
    {
        if (call.Settings.Raw is not { } raw)
        {
            return null;
        }
        long bytes = 0;
        return async message =>
        {
            if (message.Type != WebSocketMessageType.Binary)
            {
                return true;
            }
            bytes += message.Count;
            if (call.Meter.TryAdvanceTo(raw.DurationMs(bytes, call.Settings.SampleRate, call.Settings.Channels)))
            {
                return true;
            }
            var cutOff = call.Meter.CutOff();
            await Rejection.SendErrorAndCloseAsync(client, cutOff.CloseCode, cutOff.Code, cutOff.Detail, ct);
            return false;
        };
    }

    /// <summary>The upstream's channel URL: same path and query, with Tollgate's upstream key instead of the caller's.</summary>
    private Uri StreamUri(StreamCall call)
    {
        var builder = new UriBuilder(new Uri(baseUrl, "api/" + call.Model.Name))
        {
            Scheme = baseUrl.Scheme == "https" ? "wss" : "ws",
        };
        var query = call.Query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)).ToList();
        if (!string.IsNullOrEmpty(apiKey))
        {
            query.Add("api_key=" + Uri.EscapeDataString(apiKey));
        }
        builder.Query = string.Join("&", query);
        return builder.Uri;
    }

    /// <summary>Copies whole messages from one socket to the other until either closes; then closes the other alike.</summary>
    private static async Task PumpAsync(WebSocket from, WebSocket to, DoneWatcher? done, CancellationTokenSource relay, Func<WebSocketMessage, Task<bool>>? admit)
    {
        try
        {
            while (!relay.IsCancellationRequested)
            {
                var message = await WebSocketMessages.ReadAsync(from, relay.Token);
                try
                {
                    if (message.IsClose)
                    {
                        await WebSocketMessages.CloseQuietlyAsync(to, message.CloseStatus ?? WebSocketCloseStatus.NormalClosure, message.CloseDescription, CancellationToken.None);
                        return;
                    }
                    done?.Observe(message);
                    if (admit is not null && !await admit(message))
                    {
                        await WebSocketMessages.CloseQuietlyAsync(to, WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }
                    await to.SendAsync(message.Payload, message.Type, endOfMessage: true, relay.Token);
                }
                finally
                {
                    message.Return();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or InvalidDataException)
        {
            await WebSocketMessages.CloseQuietlyAsync(to, WebSocketCloseStatus.EndpointUnavailable, null, CancellationToken.None);
        }
        finally
        {
            await relay.CancelAsync();
        }
    }

    /// <summary>Remembers the <c>duration_ms</c> of the upstream's <c>done</c> message: what the stream processed.</summary>
    private sealed class DoneWatcher
    {
        public long? DurationMs { get; private set; }

        public void Observe(in WebSocketMessage message)
        {
            if (message.Type != WebSocketMessageType.Text || message.Count > 64 * 1024)
            {
                return;
            }
            try
            {
                using var json = JsonDocument.Parse(message.Payload);
                if (json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("done")
                    && json.RootElement.TryGetProperty("duration_ms", out var duration) && duration.TryGetInt64(out var ms))
                {
                    DurationMs = ms;
                }
            }
            catch (JsonException)
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream for {Model} could not be reached")]
    private static partial void LogUpstreamFailed(ILogger logger, Exception ex, string model);

    /// <summary>Lets HttpClient read the spool file without closing it (the upload owns it).</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { }
    }
}
