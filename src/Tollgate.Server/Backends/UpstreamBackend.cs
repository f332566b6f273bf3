using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Platform;
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

    public async Task<BatchOutcome> HandleBatchAsync(BatchCall call, HttpContext context)
    {
        var upload = call.Upload;
        using var request = BatchRequest(call.Model.Name, upload.File!, upload.FileName ?? "audio." + (upload.Extension.Length > 0 ? upload.Extension : "bin"), upload.Fields);
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
            return BatchOutcome.Failed;
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
            return response.IsSuccessStatusCode ? new BatchOutcome(true, call.Audio.DurationMs) : BatchOutcome.Failed;
        }
    }

    /// <summary>The Models API batch call the upstream is sent: the file (streamed from where it lies) and the form fields, with Tollgate's own upstream key.</summary>
    private HttpRequestMessage BatchRequest(string model, Stream file, string fileName, IReadOnlyDictionary<string, string> fields)
    {
        file.Seek(0, SeekOrigin.Begin);
        var content = new MultipartFormDataContent();
        var fileContent = new StreamContent(new NonDisposingStream(file), 64 * 1024);
        fileContent.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(fileContent, "upload_file", fileName);
        foreach (var (name, value) in fields)
        {
            content.Add(new StringContent(value), name);
        }
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "api/" + model)) { Content = content };
        if (!string.IsNullOrEmpty(apiKey))
        {
            request.Headers.Add("X-API-Key", apiKey);
        }
        return request;
    }

    /// <summary>The largest answer a Platform job keeps from an upstream.</summary>
    private const long MaxAnswerBytes = 16L * 1024 * 1024;

    public async Task<AnalysisResult> AnalyzeAsync(AnalysisRequest analysis, CancellationToken ct)
    {
        using var request = BatchRequest(analysis.Model, analysis.Audio, analysis.FileName ?? "audio", analysis.Fields);
        try
        {
            using var response = await httpClients.CreateClient(BackendServiceCollectionExtensions.UpstreamClient)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.Content.Headers.ContentLength > MaxAnswerBytes)
            {
                return new AnalysisResult(null, ErrorCodes.UpstreamUnavailable, "The model's answer is larger than this server keeps.");
            }
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonNode? body = null;
            try
            {
                body = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
            }
            if (response.IsSuccessStatusCode)
            {
                return body is JsonObject answer
                    ? new AnalysisResult(answer)
                    : new AnalysisResult(null, ErrorCodes.UpstreamUnavailable, "The model answered something other than a JSON object.");
            }
            var code = body?["code"] is JsonValue c && c.TryGetValue<string>(out var s) ? s : "upstream_error";
            var detail = body?["detail"] is JsonValue d && d.TryGetValue<string>(out var t) ? t : $"The model answered {(int)response.StatusCode}.";
            // A server-side failure or a limit may pass; a refusal of the audio will not.
            var transient = (int)response.StatusCode >= 500 || response.StatusCode == System.Net.HttpStatusCode.TooManyRequests;
            return new AnalysisResult(null, code, detail, transient);
        }
        catch (HttpRequestException ex)
        {
            LogUpstreamFailed(logger, ex, analysis.Model);
            return new AnalysisResult(null, ErrorCodes.UpstreamUnavailable, "The model's backend is unreachable.", Transient: true);
        }
    }

    public async Task<StreamEnd> HandleStreamAsync(StreamCall call, WebSocket client, CancellationToken ct)
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
            return StreamEnd.Failed;
        }
        var relay = new Relay(call, client, upstream, ct);
        await Task.WhenAll(relay.ToUpstreamAsync(), relay.ToClientAsync());
        if (relay.CutOff)
        {
            await WebSocketMessages.CloseQuietlyAsync(upstream, WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return StreamEnd.QuotaExhausted;
        }
        return relay.Completed ? StreamEnd.Completed : StreamEnd.Gone;
    }

    /// <summary>
    /// Copies whole messages both ways until either side closes. Raw audio is metered as it passes (bytes ÷ frame size ÷
    /// rate); other formats are measured by the upstream, whose <c>done</c> message carries the duration it processed.
    /// When the meter says the month's audio ran out, nothing more is relayed and the caller cuts the client off.
    /// </summary>
    private sealed class Relay(StreamCall call, WebSocket client, WebSocket upstream, CancellationToken ct)
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        private long _rawBytes;

        public bool CutOff { get; private set; }

        public bool Completed { get; private set; }

        public async Task ToUpstreamAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var message = await WebSocketMessages.ReadAsync(client, _stop.Token);
                    try
                    {
                        if (message.IsClose)
                        {
                            await WebSocketMessages.CloseQuietlyAsync(upstream, message.CloseStatus ?? WebSocketCloseStatus.NormalClosure, message.CloseDescription, CancellationToken.None);
                            return;
                        }
                        if (message.Type == WebSocketMessageType.Binary && call.Settings.Raw is { } raw)
                        {
                            _rawBytes += message.Count;
                            if (!await call.Meter.AdvanceToAsync(raw.DurationMs(_rawBytes, call.Settings.SampleRate, call.Settings.Channels), _stop.Token))
                            {
                                Stop(cutOff: true);
                                return;
                            }
                        }
                        await upstream.SendAsync(message.Payload, message.Type, endOfMessage: true, _stop.Token);
                    }
                    finally
                    {
                        message.Return();
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or InvalidDataException)
            {
                Stop(cutOff: false);
            }
        }

        public async Task ToClientAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var message = await WebSocketMessages.ReadAsync(upstream, _stop.Token);
                    try
                    {
                        if (message.IsClose)
                        {
                            Completed = true;
                            // The client's close frame leaves only after the charge is recorded (SettlementGate).
                            await WebSocketMessages.CloseQuietlyAsync(client, message.CloseStatus ?? WebSocketCloseStatus.NormalClosure, message.CloseDescription, CancellationToken.None);
                            _stop.Cancel();
                            return;
                        }
                        if (DoneDuration(message) is { } processedMs && !await call.Meter.AdvanceToAsync(processedMs, _stop.Token))
                        {
                            // What the upstream processed does not fit in what remained: the result is not passed on.
                            Stop(cutOff: true);
                            return;
                        }
                        await client.SendAsync(message.Payload, message.Type, endOfMessage: true, _stop.Token);
                    }
                    finally
                    {
                        message.Return();
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or InvalidDataException)
            {
                if (!CutOff)
                {
                    await WebSocketMessages.CloseQuietlyAsync(client, WebSocketCloseStatus.EndpointUnavailable, null, CancellationToken.None);
                }
                Stop(cutOff: false);
            }
        }

        private void Stop(bool cutOff)
        {
            CutOff |= cutOff;
            _stop.Cancel();
        }

        /// <summary>The <c>duration_ms</c> of an upstream <c>done</c> message: what the stream processed.</summary>
        private static long? DoneDuration(in WebSocketMessage message)
        {
            if (message.Type != WebSocketMessageType.Text || message.Count > 64 * 1024)
            {
                return null;
            }
            try
            {
                using var json = JsonDocument.Parse(message.Payload);
                return json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("done")
                    && json.RootElement.TryGetProperty("duration_ms", out var duration) && duration.TryGetInt64(out var ms)
                    ? ms
                    : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
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
