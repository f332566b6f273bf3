using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Infrastructure;

namespace Tollgate.Observability;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, metrics and traces are pushed over OTLP: a real HTTP receiver on
/// loopback (OTLP/HTTP with protobuf bodies, as a collector takes them) gets both after some traffic.
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task MetricsAndTraces_ArePushedToTheConfiguredEndpoint()
    {
        var received = new ConcurrentQueue<(string Path, string? ContentType, byte[] Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Enqueue((context.Request.Path.Value!, context.Request.ContentType, body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync();
        var endpoint = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        await using var server = await TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        var key = await server.CreateKeyAsync("velma-2-batch");
        using var client = server.CreateClient(key.Secret);
        using (var ok = await client.GetAsync("api/velma-2-batch/list-presets?api_key=" + key.Secret))
        {
            Assert.True(ok.IsSuccessStatusCode);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !(received.Any(r => r.Path == "/v1/metrics") && received.Any(r => r.Path == "/v1/traces")))
        {
            await Task.Delay(100);
        }
        Assert.Contains(received, r => r.Path == "/v1/metrics" && r.ContentType == "application/x-protobuf" && r.Body.Length > 0);
        Assert.Contains(received, r => r.Path == "/v1/traces" && r.ContentType == "application/x-protobuf" && r.Body.Length > 0);
        // The request's URL carried the key as api_key: no span or metric that left the server does.
        var secret = System.Text.Encoding.UTF8.GetBytes(key.Secret);
        Assert.DoesNotContain(received, r => r.Body.AsSpan().IndexOf(secret) >= 0);
    }
}
