using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Tollgate.Benchmarks.Load;

/// <summary>
/// The upstream scenario's reference proxy: plain YARP (one catch-all route to one destination, <c>--upstream</c>),
/// no authentication, no limits, no probing: what forwarding alone costs on this machine.
/// </summary>
public static class YarpServer
{
    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        var upstream = builder.Configuration["upstream"] ?? throw new ArgumentException("--upstream <url> is required");
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "model", Match = new RouteMatch { Path = "{**rest}" } }],
            [new ClusterConfig { ClusterId = "model", Destinations = new Dictionary<string, DestinationConfig> { ["m"] = new() { Address = upstream } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync();
    }
}
