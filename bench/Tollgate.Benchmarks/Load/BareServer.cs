using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.Benchmarks.Load;

/// <summary>
/// The load runs' baseline: bare Kestrel answering <c>GET /v1/me</c> with a JSON body of the same size and shape as
/// Tollgate's, with no authentication, no admission and no store: what any ASP.NET Core endpoint costs. It serves
/// <see cref="PipelineServer"/>'s <c>GET /v1/pipeline</c> too, with the same body and nothing in front, and is
/// the trivial model server of the upstream scenario (<c>POST /api/{model}</c>: reads the upload, answers a fixed JSON).
/// </summary>
public static class BareServer
{
    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var body = """{"accountId":"org_0000000000000000","name":"Demo","email":null,"apiCreditsUsed":0,"apiCreditsLeft":36000,"monthlyCredits":36000}"""u8.ToArray();
        app.MapGet("/v1/me", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.Body.WriteAsync(body).AsTask();
        });
        app.MapGet("/v1/pipeline", PipelineServer.Pipeline);
        // The trivial model server of the upstream scenario: reads the whole upload, answers a fixed JSON.
        var answer = """{"text":"","duration_ms":30000,"utterances":[]}"""u8.ToArray();
        app.MapPost("/api/{model}", async (HttpContext context) =>
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (await context.Request.Body.ReadAsync(buffer) > 0)
                {
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(answer);
        });
        // The model server's stream: every binary frame is echoed back at once (the per-frame latency probe's far end).
        app.UseWebSockets();
        app.MapGet("/api/{model}", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var frame = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(frame, context.RequestAborted);
                    if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }
                    if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Binary)
                    {
                        await socket.SendAsync(frame.AsMemory(0, result.Count), System.Net.WebSockets.WebSocketMessageType.Binary, true, context.RequestAborted);
                    }
                }
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
            {
            }
        });
        await app.RunAsync();
    }
}
