using Tollgate.Backends.Reference.Codecs.Mp3;
using Tollgate.Models;
using Tollgate.Server.Backends.Upstreams;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Backends;

/// <summary>
/// Which backend serves each model: the upstream backend when the configuration sends the model upstream
/// (<c>Tollgate:Upstreams</c>, or the older <c>Tollgate:Backends:{model}:Url</c>), else the reference backend. Read
/// per call, so a configuration reload moves a model without a restart.
/// </summary>
internal sealed class BackendRegistry(UpstreamCatalog upstreams, ReferenceBackend reference, UpstreamBackend upstream)
{
    public IModelBackend For(ModelDescriptor model) => IsUpstream(model) ? upstream : reference;

    public bool IsUpstream(ModelDescriptor model) => upstreams.TryGetRoute(model.Name, out _);
}

internal static class BackendServiceCollectionExtensions
{
    public static IServiceCollection AddBackends(this IServiceCollection services)
    {
        services.AddSingleton<ReferenceBackend>();
        services.AddSingleton(_ => Mp3Encoder.Availability);
        services.AddHostedService<Mp3EncoderCheck>();

        // YARP: the clusters come from UpstreamCatalog; Tollgate's endpoints forward through IHttpForwarder.
        services.AddReverseProxy();
        services.AddSingleton<UpstreamCatalog>();
        services.AddSingleton<Yarp.ReverseProxy.Configuration.IProxyConfigProvider>(sp => sp.GetRequiredService<UpstreamCatalog>());
        services.AddSingleton(new StartupCheck(static sp =>
        {
            sp.GetRequiredService<UpstreamCatalog>().ThrowIfInvalid();
            return null;
        }));
        services.AddSingleton<UpstreamRouter>();
        services.AddSingleton<UpstreamBackend>();
        services.AddSingleton<BackendRegistry>();
        return services;
    }

    /// <summary>Loads the upstream clusters into YARP (and starts their health checks); YARP maps no routes of its own.</summary>
    public static IEndpointRouteBuilder MapUpstreams(this IEndpointRouteBuilder app)
    {
        app.MapReverseProxy();
        return app;
    }
}
