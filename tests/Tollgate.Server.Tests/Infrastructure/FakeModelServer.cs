using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tollgate.Infrastructure;

/// <summary>How a <see cref="FakeModelServer"/> answers a batch call.</summary>
public enum FakeBehavior
{
    /// <summary>Reads the upload, answers 200 with a small JSON.</summary>
    Ok,

    /// <summary>Reads the upload, answers 500.</summary>
    Fail,

    /// <summary>Reads the upload, then never answers (until the call is cancelled).</summary>
    Hang,

    /// <summary>Reads the upload, starts a 200 answer and drops the connection mid-body.</summary>
    Drop,
}

/// <summary>What a fake model server saw of one batch call.</summary>
public sealed record SeenCall(IReadOnlyDictionary<string, string> Headers, byte[] Body, string Path, string Query);

/// <summary>
/// A small model server on a real Kestrel (127.0.0.1, a free port) that behaves as the test says: answers, fails,
/// hangs, drops; says it is healthy or not on <c>/healthz</c>; relays a Models API stream (echo, a <c>done</c> with
/// the raw audio it got, or a dropped connection). It records what reached it, so tests assert on the upstream's side.
/// </summary>
public sealed class FakeModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private TaskCompletionSource _firstBytes = New();
    private TaskCompletionSource _aborted = New();

    private FakeModelServer(WebApplication app) => _app = app;

    public string Name { get; private set; } = "";

    public Uri BaseAddress { get; private set; } = null!;

    public FakeBehavior Behavior { get; set; } = FakeBehavior.Ok;

    /// <summary>What /healthz answers: 200 when true, 503 otherwise.</summary>
    public bool Healthy { get; set; } = true;

    /// <summary>Drop the WebSocket (no close frame) after the first audio message.</summary>
    public bool DropStreams { get; set; }

    public ConcurrentQueue<SeenCall> Calls { get; } = new();

    public int HealthProbes;

    /// <summary>Completes when a batch call's first body bytes arrived (reset with <see cref="Reset"/>).</summary>
    public Task FirstBytes => _firstBytes.Task;

    /// <summary>Completes when a hanging call was cancelled by the caller (the gateway).</summary>
    public Task Aborted => _aborted.Task;

    public void Reset()
    {
        _firstBytes = New();
        _aborted = New();
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<FakeModelServer> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var server = new FakeModelServer(app) { Name = name };
        app.UseWebSockets();
        app.MapGet("/healthz", (HttpContext c) =>
        {
            Interlocked.Increment(ref server.HealthProbes);
            return server.Healthy ? Results.Ok() : Results.StatusCode(503);
        });
        app.MapPost("/api/{model}", server.BatchAsync);
        app.MapGet("/api/{model}", server.StreamAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address + "/");
        return server;
    }

    private async Task BatchAsync(HttpContext context)
    {
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        var first = true;
        try
        {
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                if (first)
                {
                    first = false;
                    _firstBytes.TrySetResult();
                }
                body.Write(buffer, 0, read);
            }
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            _aborted.TrySetResult();
            return;
        }
        Calls.Enqueue(new SeenCall(
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray(), context.Request.Path, context.Request.QueryString.Value ?? ""));
        switch (Behavior)
        {
            case FakeBehavior.Fail:
                context.Response.StatusCode = 500;
                context.Response.Headers["X-Upstream"] = Name;
                context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>()!.ReasonPhrase = "Upstream Melted";
                await context.Response.WriteAsync("{\"detail\":\"boom\"}");
                return;
            case FakeBehavior.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    _aborted.TrySetResult();
                }
                return;
            case FakeBehavior.Drop:
                context.Response.ContentLength = 10_000;
                context.Response.Headers["X-Upstream"] = Name;
                await context.Response.WriteAsync("{\"text\":\"");
                await context.Response.Body.FlushAsync();
                // Let the fragment reach the gateway before the drop, so the broken-off answer is what it has to handle.
                await Task.Delay(200);
                context.Abort();
                return;
            default:
                context.Response.Headers["X-Upstream"] = Name;
                context.Response.Headers["X-RateLimit-Limit"] = "999";
                context.Response.Headers["Retry-After"] = "77";
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync($"{{\"server\":\"{Name}\",\"bytes\":{body.Length}}}");
                return;
        }
    }

    /// <summary>A Models API stream: counts raw audio bytes; an empty text message ends it with <c>done</c>.</summary>
    private async Task StreamAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }
        Calls.Enqueue(new SeenCall(
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            [], context.Request.Path, context.Request.QueryString.Value ?? ""));
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[64 * 1024];
        long bytes = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }
            if (result.MessageType == WebSocketMessageType.Binary)
            {
                bytes += result.Count;
                if (DropStreams)
                {
                    context.Abort();
                    return;
                }
                continue;
            }
            if (result.EndOfMessage && result.Count == 0)
            {
                var done = System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"done\",\"duration_ms\":{bytes / 32}}}");
                await socket.SendAsync(done, WebSocketMessageType.Text, true, CancellationToken.None);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
