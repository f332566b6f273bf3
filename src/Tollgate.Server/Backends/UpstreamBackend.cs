using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Models;
using Tollgate.Platform;
using Tollgate.Server.Admission;
using Tollgate.Server.Backends.Upstreams;
using Tollgate.Server.Http;
using Tollgate.Server.Models;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Tollgate.Server.Backends;

/// <summary>
/// Serves the models the configuration sends upstream (<see cref="UpstreamCatalog"/>), through YARP: the destination
/// is chosen by the cluster's health state and load-balancing policy (<see cref="UpstreamRouter"/>), and a batch call
/// is sent by YARP's <see cref="IHttpForwarder"/> — the client's body as it was sent when its beginning established the
/// duration (<see cref="ForwardAsync"/>), else the spooled file in a new multipart body (<see cref="HandleBatchAsync"/>)
/// — with Tollgate's upstream key instead of the caller's, and the answer streamed back. A failure of the upstream is
/// 502 (504 for a timeout) in the error shape, and nothing is charged. WebSocket streams are relayed message by message.
/// </summary>
internal sealed partial class UpstreamBackend(UpstreamCatalog catalog, UpstreamRouter router, IHttpForwarder forwarder, ILogger<UpstreamBackend> logger)
    : IModelBackend, IForwardingBackend
{
    public Task<BatchOutcome> ForwardAsync(ForwardedBatchCall call, HttpContext context) =>
        SendAsync(context, call.Model, call.Upload.Body, call.Audio.DurationMs);

    /// <summary>A file that had to be spooled (its duration needed all of it): sent as a new multipart body, the file streamed from disk.</summary>
    public async Task<BatchOutcome> HandleBatchAsync(BatchCall call, HttpContext context)
    {
        var upload = call.Upload;
        using var content = BatchContent(upload.File!, upload.FileName ?? "audio." + (upload.Extension.Length > 0 ? upload.Extension : "bin"), upload.Fields);
        var request = context.Request;
        request.Headers.Remove("Transfer-Encoding");
        request.ContentType = content.Headers.ContentType!.ToString();
        request.ContentLength = content.Headers.ContentLength;
        var body = new UploadReplay(await content.ReadAsStreamAsync(context.RequestAborted));
        body.Replay();
        request.Body = body;
        return await SendAsync(context, call.Model, body, call.Audio.DurationMs);
    }

    /// <summary>
    /// Forwards the request (its body <paramref name="body"/>) to a destination of the model's cluster. A destination
    /// that refused the connection before any byte of the body left is replaced by another one, once: that call
    /// provably never reached an upstream. Any other failure is answered, never retried.
    /// </summary>
    private async Task<BatchOutcome> SendAsync(HttpContext context, ModelDescriptor model, UploadReplay body, long durationMs)
    {
        if (!catalog.TryGetRoute(model.Name, out var route))
        {
            await ApiError.WriteAsync(context, StatusCodes.Status502BadGateway, ErrorCodes.UpstreamUnavailable, "The model's upstream is no longer configured. Please try again.");
            return BatchOutcome.Failed;
        }
        var requestId = context.Features.Get<AdmissionFeature>()?.Call?.RequestId ?? context.TraceIdentifier;
        // Tollgate's own headers (the rate-limit ones admission wrote): what an answer Tollgate writes instead of the upstream's keeps.
        var own = OwnHeaders(context.Response.Headers);
        DestinationState? refused = null;
        for (var attempt = 0; ; attempt++)
        {
            using var pick = router.Choose(route.ClusterId, context, except: refused);
            if (pick is null)
            {
                LogNoDestination(logger, model.Name, route.ClusterId);
                await ApiError.WriteAsync(context, StatusCodes.Status502BadGateway, ErrorCodes.UpstreamUnavailable,
                    "Unable to reach a server of this model. Please try again later.");
                return BatchOutcome.Failed;
            }
            var transformer = new UpstreamTransformer(route.ApiKey, requestId);
            // The upload's deadline (408 when its body has not all arrived in time) cancels the call as the client's going away would.
            var error = await forwarder.SendAsync(context, pick.Address, pick.Model.HttpClient,
                pick.Model.Config.HttpRequest ?? ForwarderRequestConfig.Empty, transformer, body.Deadline);
            router.Report(context, pick, answeredFailure: transformer.RefusedStatus is not null);
            if (body.Refusal is { } refusal)
            {
                // The body broke a rule as it passed (a part after the file, the file's size): its end never went upstream.
                await ReplaceAnswerAsync(context, own, refusal.Status, refusal.Code, refusal.Detail);
                return BatchOutcome.Failed;
            }
            if (body.DeadlinePassed && !context.RequestAborted.IsCancellationRequested)
            {
                context.Response.Headers.Connection = "close";
                var late = BatchUpload.TimedOut(body.DeadlineText ?? "its deadline");
                await ReplaceAnswerAsync(context, own, late.Status, late.Code, late.Detail, keep: "Connection");
                return BatchOutcome.Failed;
            }
            if (error == ForwarderError.None && transformer.RefusedStatus is null)
            {
                return context.Response.StatusCode is >= 200 and < 300 ? new BatchOutcome(true, durationMs) : BatchOutcome.Failed;
            }
            if (context.RequestAborted.IsCancellationRequested)
            {
                return BatchOutcome.Failed; // the client went away: YARP cancelled the upstream call
            }
            if (transformer.RefusedStatus is { } status)
            {
                LogUpstreamAnswered(logger, model.Name, pick.Destination.DestinationId, status);
                await ReplaceAnswerAsync(context, own, StatusCodes.Status502BadGateway, ErrorCodes.UpstreamError,
                    $"The model server failed to process the request (it answered {status}). Please try again.");
                return BatchOutcome.Failed;
            }
            var failure = context.Features.Get<IForwarderErrorFeature>();
            LogUpstreamFailed(logger, failure?.Exception, model.Name, pick.Destination.DestinationId, error);
            if (context.Response.HasStarted)
            {
                return BatchOutcome.Failed; // dropped mid-answer: YARP aborted the client's response, which is never completed
            }
            if (error == ForwarderError.Request && body.HandedOut == 0 && attempt == 0)
            {
                // Nothing of the body left: the upload never reached that upstream, so another may take it.
                refused = pick.Destination;
                context.Features.Set<IForwarderErrorFeature>(null);
                context.Response.StatusCode = StatusCodes.Status200OK;
                continue;
            }
            var timedOut = error is ForwarderError.RequestTimedOut || context.Response.StatusCode == StatusCodes.Status504GatewayTimeout;
            await ReplaceAnswerAsync(context, own,
                timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                timedOut ? ErrorCodes.UpstreamTimeout : ErrorCodes.UpstreamUnavailable,
                timedOut ? "The model server did not answer in time. Please try again." : "Unable to complete the request. Please try again.");
            return BatchOutcome.Failed;
        }
    }

    /// <summary>The response headers Tollgate set before forwarding (none of them the upstream's), or null when there are none.</summary>
    private static KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[]? OwnHeaders(IHeaderDictionary headers)
    {
        if (headers.Count == 0)
        {
            return null;
        }
        var own = new KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[headers.Count];
        var i = 0;
        foreach (var header in headers)
        {
            own[i++] = header;
        }
        return own;
    }

    /// <summary>
    /// Answers in the error shape instead of the upstream: its status line, headers and any part of its answer the
    /// settlement gate holds unsent give way (Tollgate's own headers, <paramref name="own"/>, stay). An answer that has
    /// already started going out cannot be replaced: the client's response is aborted, so it is never seen complete.
    /// </summary>
    private static Task ReplaceAnswerAsync(HttpContext context, KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[]? own,
        int status, string code, string detail, string? keep = null)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }
        var headers = context.Response.Headers;
        var kept = keep is not null && headers.TryGetValue(keep, out var value) ? value : default;
        headers.Clear();
        foreach (var (name, values) in own ?? [])
        {
            headers[name] = values;
        }
        if (keep is not null && kept.Count > 0)
        {
            headers[keep] = kept;
        }
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>() is { } response)
        {
            response.ReasonPhrase = null;
        }
        return ApiError.WriteAsync(context, status, code, detail);
    }

    /// <summary>The Models API batch call as a multipart body: the file (streamed from where it lies) and the form fields.</summary>
    private static MultipartFormDataContent BatchContent(Stream file, string fileName, IReadOnlyDictionary<string, string> fields)
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
        return content;
    }

    /// <summary>The largest answer a Platform job keeps from an upstream.</summary>
    private const long MaxAnswerBytes = 16L * 1024 * 1024;

    /// <summary>A Platform API job's file, sent to a destination of the model's cluster with its HTTP client and timeout.</summary>
    public async Task<AnalysisResult> AnalyzeAsync(AnalysisRequest analysis, CancellationToken ct)
    {
        if (!catalog.TryGetRoute(analysis.Model, out var route))
        {
            return new AnalysisResult(null, ErrorCodes.UpstreamUnavailable, "The model's upstream is no longer configured.", Transient: true);
        }
        using var pick = router.Choose(route.ClusterId, new DefaultHttpContext());
        if (pick is null)
        {
            return new AnalysisResult(null, ErrorCodes.UpstreamUnavailable, "No server of this model is available.", Transient: true);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, RequestUtilities.MakeDestinationAddress(pick.Address, "/api/" + analysis.Model, QueryString.Empty))
        {
            Content = BatchContent(analysis.Audio, analysis.FileName ?? "audio", analysis.Fields),
        };
        if (!string.IsNullOrEmpty(route.ApiKey))
        {
            request.Headers.Add(Credentials.ModelsKeyHeader, route.ApiKey);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(pick.Model.Config.HttpRequest?.ActivityTimeout ?? TimeSpan.FromSeconds(100));
        try
        {
            using var response = await pick.Model.HttpClient.SendAsync(request, timeout.Token);
            if (response.Content.Headers.ContentLength > MaxAnswerBytes)
            {
                return new AnalysisResult(null, ErrorCodes.UpstreamUnavailable, "The model's answer is larger than this server keeps.");
            }
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
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
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            LogUpstreamFailed(logger, ex, analysis.Model, pick.Destination.DestinationId, ForwarderError.Request);
            return new AnalysisResult(null, ErrorCodes.UpstreamUnavailable, "The model's backend is unreachable.", Transient: true);
        }
    }

    public async Task<StreamEnd> HandleStreamAsync(StreamCall call, WebSocket client, CancellationToken ct)
    {
        if (!catalog.TryGetRoute(call.Model.Name, out var route))
        {
            await Rejection.SendErrorAndCloseAsync(client, (int)WebSocketCloseStatus.InternalServerError, ErrorCodes.UpstreamUnavailable,
                "The service is temporarily unavailable. Please try again later.", ct);
            return StreamEnd.Failed;
        }
        var context = new DefaultHttpContext();
        DestinationState? refused = null;
        for (var attempt = 0; ; attempt++)
        {
            using var pick = router.Choose(route.ClusterId, context, except: refused);
            using var upstream = new ClientWebSocket();
            try
            {
                if (pick is null)
                {
                    throw new WebSocketException("No destination of the model's cluster is available.");
                }
                // A connection that is not open yet has carried no audio: another destination may be tried, once.
                await upstream.ConnectAsync(StreamUri(pick.Address, route.ApiKey, call), pick.Model.HttpClient, ct);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException && !ct.IsCancellationRequested)
            {
                LogUpstreamFailed(logger, ex, call.Model.Name, pick?.Destination.DestinationId ?? "-", ForwarderError.UpgradeRequestDestination);
                if (pick is not null && attempt == 0)
                {
                    refused = pick.Destination;
                    continue;
                }
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
            if (relay.UpstreamFailed)
            {
                LogStreamDropped(logger, call.Model.Name, pick.Destination.DestinationId);
                return StreamEnd.Failed;
            }
            return relay.Completed ? StreamEnd.Completed : StreamEnd.Gone;
        }
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
        private int _broke;

        public bool CutOff { get; private set; }

        /// <summary>The upstream broke the stream (not a close frame): the client was sent an error and 1011.</summary>
        public bool UpstreamFailed { get; private set; }

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
                        if (UpstreamFailed)
                        {
                            continue; // the upstream is gone: nothing more is relayed, or metered
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
                        try
                        {
                            await upstream.SendAsync(message.Payload, message.Type, endOfMessage: true, _stop.Token);
                        }
                        catch (Exception ex) when (ex is WebSocketException or IOException && !_stop.IsCancellationRequested)
                        {
                            await UpstreamBrokeAsync();
                            return;
                        }
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
                    WebSocketMessage message;
                    try
                    {
                        message = await WebSocketMessages.ReadAsync(upstream, _stop.Token);
                    }
                    catch (Exception ex) when (ex is WebSocketException or IOException or InvalidDataException && !_stop.IsCancellationRequested)
                    {
                        await UpstreamBrokeAsync();
                        return;
                    }
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
                // The client went away (or the other direction stopped the relay): nothing to tell it.
                Stop(cutOff: false);
            }
        }

        /// <summary>The upstream failed mid-stream: the client hears why (an error message, then 1011), and the relay stops.</summary>
        private async Task UpstreamBrokeAsync()
        {
            if (Interlocked.Exchange(ref _broke, 1) != 0 || CutOff)
            {
                return;
            }
            UpstreamFailed = true;
            try
            {
                // The other direction is still reading the client: it reads the client's answering close, and stops.
                await Rejection.SendErrorAndCloseOutputAsync(client, (int)WebSocketCloseStatus.InternalServerError, ErrorCodes.UpstreamUnavailable,
                    "The model server closed the stream unexpectedly. Please try again.", CancellationToken.None);
                _stop.CancelAfter(ClientCloseGrace);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
            {
                Stop(cutOff: false);
            }
        }

        /// <summary>How long a client told of a broken stream may take to answer the close before it is cut off.</summary>
        private static readonly TimeSpan ClientCloseGrace = TimeSpan.FromSeconds(5);

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

    /// <summary>The upstream's channel URL on <paramref name="address"/>: same path and query, with Tollgate's upstream key instead of the caller's.</summary>
    private static Uri StreamUri(string address, string? apiKey, StreamCall call)
    {
        var http = RequestUtilities.MakeDestinationAddress(address, "/api/" + call.Model.Name, QueryString.Empty);
        var builder = new UriBuilder(http) { Scheme = http.Scheme == "https" ? "wss" : "ws" };
        var query = call.Query.Where(p => p.Key != Credentials.WebSocketKeyParameter)
            .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)).ToList();
        if (!string.IsNullOrEmpty(apiKey))
        {
            query.Add(Credentials.WebSocketKeyParameter + "=" + Uri.EscapeDataString(apiKey));
        }
        builder.Query = string.Join("&", query);
        return builder.Uri;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream for {Model} (destination {Destination}) failed: {Error}")]
    private static partial void LogUpstreamFailed(ILogger logger, Exception? ex, string model, string destination, ForwarderError error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream for {Model} (destination {Destination}) answered {Status}; the client is answered 502")]
    private static partial void LogUpstreamAnswered(ILogger logger, string model, string destination, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No destination of {Model}'s upstream {Cluster} is available")]
    private static partial void LogNoDestination(ILogger logger, string model, string cluster);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream for {Model} (destination {Destination}) broke the stream; the client was closed with 1011")]
    private static partial void LogStreamDropped(ILogger logger, string model, string destination);

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
