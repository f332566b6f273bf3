using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Tollgate.Client.Behavior;
using Tollgate.Client.Http;

namespace Tollgate.Client.Models;

/// <summary>How a stream ended: the server's <c>done</c> (with <see cref="DurationMs"/>), or its <c>error</c> and close code.</summary>
/// <param name="CloseCode">The WebSocket close code (1000 after <c>done</c>; 1003, 4001, 4002, 4003 or 4029 after an <c>error</c>).</param>
/// <param name="DurationMs">The <c>duration_ms</c> of the <c>done</c> message, or null when the stream failed.</param>
/// <param name="Error">The <c>error</c> message's text, or null.</param>
/// <param name="ErrorCode">The <c>error</c> message's machine <c>code</c>, or null.</param>
public sealed record StreamResult(int CloseCode, long? DurationMs, string? Error, string? ErrorCode)
{
    /// <summary>Whether the stream ended with <c>done</c>.</summary>
    public bool Succeeded => DurationMs is not null;
}

/// <summary>
/// The Models API's streaming channels (<c>ws(s)://…/api/{model}?api_key=…</c>): sends an optional first-frame config,
/// the audio as binary frames, the empty text frame that ends it, and hands every message the server sends to a callback.
/// Built from <see cref="TollgateClientOptions"/>, a stream holds a slot of its model's concurrency gate (shared with
/// the batch calls of the same <see cref="TollgateClientBehavior"/>) from before it connects until it has closed, so
/// no more streams are open than the key's limit and the extra ones wait instead of being closed with 4029.
/// </summary>
public sealed class TollgateStreamingClient : IDisposable
{
    private readonly Uri _baseAddress;
    private readonly string _apiKey;
    private readonly ClientCore? _core;

    /// <summary>A client without a gate: every stream connects at once.</summary>
    /// <param name="baseAddress">The server's root, e.g. <c>http://127.0.0.1:5080</c>.</param>
    /// <param name="apiKey">The key, sent as the <c>api_key</c> query parameter.</param>
    public TollgateStreamingClient(Uri baseAddress, string apiKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        _baseAddress = BaseAddress.Normalize(baseAddress, nameof(baseAddress));
        _apiKey = apiKey;
    }

    /// <summary>A client whose streams go through the concurrency gate of <paramref name="behavior"/>.</summary>
    /// <param name="options">BaseAddress and ApiKey required; MaxConcurrency, LearnConcurrencyFromAccount and DefaultConcurrency size the gate.</param>
    /// <param name="behavior">The shared behaviour (e.g. the Models client's <see cref="TollgateModelsClient.Behavior"/>); default a new one from <paramref name="options"/>.</param>
    public TollgateStreamingClient(TollgateClientOptions options, TollgateClientBehavior? behavior = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            throw new ArgumentException("Invalid TollgateClientOptions: ApiKey is required by the streaming client.", nameof(options));
        }
        _core = ClientCore.Create(options, behavior ?? new TollgateClientBehavior(options), new SocketsHttpHandler());
        _baseAddress = _core.BaseAddress;
        _apiKey = options.ApiKey;
    }

    /// <summary>The shared behaviour whose gate the streams hold; null for a client built without options.</summary>
    public TollgateClientBehavior? Behavior => _core?.Behavior;

    /// <summary>Streams <paramref name="audio"/> to <paramref name="model"/> and reads every event until the server closes.</summary>
    /// <param name="model">A streaming model, e.g. <c>velma-2-stt-streaming</c>.</param>
    /// <param name="audio">The audio, read to its end in frames of <paramref name="frameBytes"/>.</param>
    /// <param name="query">Query parameters of the channel (<c>audio_format</c>, <c>sample_rate</c>, <c>num_channels</c>...).</param>
    /// <param name="config">A first text frame (velma-2: <c>default</c> or a BatchConfig JSON; STT: an optional JSON config), or null.</param>
    /// <param name="onMessage">Called for every JSON message, in order (including <c>done</c> and <c>error</c>).</param>
    /// <param name="frameBytes">Bytes per binary frame; default 32 KB.</param>
    /// <param name="cancellationToken">Cancels the stream (the connection is aborted), or its wait for a gate slot.</param>
    public async Task<StreamResult> StreamAsync(
        string model,
        Stream audio,
        IReadOnlyDictionary<string, string>? query = null,
        string? config = null,
        Func<JsonElement, ValueTask>? onMessage = null,
        int frameBytes = 32 * 1024,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentOutOfRangeException.ThrowIfLessThan(frameBytes, 1);
        using var slot = _core is null ? null : await _core.EnterStreamAsync(model, _apiKey, cancellationToken).ConfigureAwait(false);
        return await RunAsync(ChannelUri(model, query), audio, config, onMessage, frameBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the HTTP client the options constructor made (for the account read); nothing else is held.</summary>
    public void Dispose() => _core?.Dispose();

    /// <summary>One stream on <paramref name="channel"/>: config, audio frames, the empty end frame; every message read until the close.</summary>
    internal static async Task<StreamResult> RunAsync(
        Uri channel, Stream audio, string? config, Func<JsonElement, ValueTask>? onMessage, int frameBytes, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(channel, cancellationToken).ConfigureAwait(false);
        var receiving = ReceiveAsync(socket, onMessage, cancellationToken);
        try
        {
            if (config is not null)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(config), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
            }
            var buffer = new byte[frameBytes];
            int read;
            while (socket.State == WebSocketState.Open && (read = await audio.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await socket.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
            }
            if (socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (WebSocketException) when (!receiving.IsFaulted)
        {
            // The server closed while audio was still going out (an error or a cut-off): its messages say why.
        }
        return await receiving.ConfigureAwait(false);
    }

    private Uri ChannelUri(string model, IReadOnlyDictionary<string, string>? query)
    {
        var builder = new UriBuilder(BaseAddress.Combine(_baseAddress, "api/" + Uri.EscapeDataString(model)))
        {
            Scheme = _baseAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        var parameters = (query ?? new Dictionary<string, string>())
            .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))
            .Append("api_key=" + Uri.EscapeDataString(_apiKey));
        builder.Query = string.Join("&", parameters);
        return builder.Uri;
    }

    private static async Task<StreamResult> ReceiveAsync(ClientWebSocket socket, Func<JsonElement, ValueTask>? onMessage, CancellationToken ct)
    {
        long? duration = null;
        string? error = null;
        string? code = null;
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (WebSocketException) when (socket.State is WebSocketState.Aborted or WebSocketState.Closed)
            {
                return new StreamResult((int?)socket.CloseStatus ?? 1006, duration, error ?? "The connection was lost.", code);
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                }
                return new StreamResult((int?)result.CloseStatus ?? 1005, duration, error, code);
            }
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            if (result.MessageType == WebSocketMessageType.Text && message.Length > 0)
            {
                using var json = JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length));
                var root = json.RootElement;
                var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (type == "done" && root.TryGetProperty("duration_ms", out var d))
                {
                    duration = d.GetInt64();
                }
                else if (type == "error")
                {
                    error = root.TryGetProperty("error", out var e) ? e.GetString() : null;
                    code = root.TryGetProperty("code", out var c) ? c.GetString() : null;
                }
                if (onMessage is not null)
                {
                    await onMessage(root).ConfigureAwait(false);
                }
            }
            message.SetLength(0);
        }
    }
}
