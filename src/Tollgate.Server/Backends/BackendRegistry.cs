using Microsoft.Extensions.Options;
using Tollgate.Backends.Reference.Codecs.Mp3;
using Tollgate.Models;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Backends;

/// <summary>Which backend serves each model: an upstream when <c>Tollgate:Backends:{model}:Url</c> is set, else the reference backend.</summary>
internal sealed class BackendRegistry(IOptions<TollgateOptions> options, ReferenceBackend reference, IHttpClientFactory httpClients, ILoggerFactory loggers)
{
    private readonly Dictionary<string, IModelBackend> _upstreams = options.Value.Backends
        .Where(p => !string.IsNullOrWhiteSpace(p.Value.Url))
        .ToDictionary(
            p => p.Key,
            p => (IModelBackend)new UpstreamBackend(new Uri(p.Value.Url!.EndsWith('/') ? p.Value.Url : p.Value.Url + "/"), p.Value.ApiKey, httpClients, loggers.CreateLogger<UpstreamBackend>()),
            StringComparer.Ordinal);

    public IModelBackend For(ModelDescriptor model) => _upstreams.TryGetValue(model.Name, out var upstream) ? upstream : reference;

    public bool IsUpstream(ModelDescriptor model) => _upstreams.ContainsKey(model.Name);
}

internal static class BackendServiceCollectionExtensions
{
    public const string UpstreamClient = "tollgate-upstream";

    public static IServiceCollection AddBackends(this IServiceCollection services)
    {
        services.AddHttpClient(UpstreamClient, c => c.Timeout = TimeSpan.FromMinutes(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton<ReferenceBackend>();
        services.AddSingleton(_ => Mp3Encoder.Availability);
        services.AddHostedService<Mp3EncoderCheck>();
        services.AddSingleton<BackendRegistry>();
        return services;
    }
}
