using Microsoft.Extensions.Primitives;
using Tollgate.Models;
using Tollgate.Server.Hosting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Tollgate.Server.Backends.Upstreams;

/// <summary>Where a model's calls go: its YARP cluster, and the key Tollgate presents there.</summary>
internal sealed record UpstreamRoute(string ClusterId, string? ApiKey);

/// <summary>
/// The upstreams of the configuration as YARP clusters (its <see cref="IProxyConfigProvider"/>: YARP owns the
/// destinations' state, the active health probes and the HTTP clients), and which model goes to which cluster.
/// <c>Tollgate:Upstreams:{name}</c> is one cluster per entry; the older <c>Tollgate:Backends:{model}:Url</c> is a
/// cluster of one destination with no health checks. A configuration reload rebuilds both; a reload with errors is
/// logged and leaves the running configuration as it was.
/// </summary>
internal sealed partial class UpstreamCatalog : IProxyConfigProvider, IDisposable
{
    /// <summary>The cluster id of a model's <c>Tollgate:Backends</c> entry (a ':' no configuration section name has).</summary>
    private static string LegacyClusterId(string model) => "Tollgate:Backends:" + model;

    private readonly IConfiguration _configuration;
    private readonly IConfigValidator _validator;
    private readonly ILogger<UpstreamCatalog> _logger;
    private readonly IDisposable? _reloads;
    private volatile Snapshot _current;

    public UpstreamCatalog(IConfiguration configuration, IConfigValidator validator, ILogger<UpstreamCatalog> logger)
    {
        _configuration = configuration;
        _validator = validator;
        _logger = logger;
        _current = Build(out _);
        _reloads = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>The model's upstream, or false when the reference backend serves it.</summary>
    public bool TryGetRoute(string model, out UpstreamRoute route) => _current.Routes.TryGetValue(model, out route!);

    /// <summary>Every problem of the upstream settings, each naming its setting; empty when they are all right.</summary>
    public IReadOnlyList<string> Problems => _current.Problems;

    /// <exception cref="ConfigurationException">The upstream settings read at start-up are wrong.</exception>
    public void ThrowIfInvalid()
    {
        if (_current.Problems.Count > 0)
        {
            throw new ConfigurationException(_current.Problems);
        }
    }

    public IProxyConfig GetConfig() => _current.Config;

    public void Dispose()
    {
        _reloads?.Dispose();
    }

    private void Reload()
    {
        var next = Build(out var bindingFailed);
        if (next.Problems.Count > 0 || bindingFailed)
        {
            LogReloadRefused(_logger, string.Join(" ", next.Problems));
            return;
        }
        var previous = _current;
        _current = next;
        previous.Config.Replaced();
        LogReloaded(_logger, next.Config.Clusters.Count);
    }

    private Snapshot Build(out bool bindingFailed)
    {
        bindingFailed = false;
        var problems = new List<string>();
        // Each upstream bound on its own, so a value that does not convert is one problem among all the others.
        var upstreams = new Dictionary<string, UpstreamOptions>(StringComparer.Ordinal);
        foreach (var section in _configuration.GetSection(UpstreamOptions.SectionPath).GetChildren())
        {
            try
            {
                upstreams[section.Key] = section.Get<UpstreamOptions>() ?? new UpstreamOptions();
            }
            catch (InvalidOperationException ex)
            {
                bindingFailed = true;
                problems.AddRange(StartupValidation.Describe(ex));
            }
        }
        Dictionary<string, BackendOptions> legacy;
        try
        {
            legacy = _configuration.GetSection(TollgateOptions.Section + ":Backends").Get<Dictionary<string, BackendOptions>>() ?? [];
        }
        catch (InvalidOperationException)
        {
            legacy = []; // reported with the rest of the Tollgate section
        }

        var clusters = new List<ClusterConfig>();
        var routes = new Dictionary<string, UpstreamRoute>(StringComparer.Ordinal);
        var servedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, upstream) in upstreams.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var path = $"{UpstreamOptions.SectionPath}:{name}";
            var before = problems.Count;
            if (upstream.Models.Count == 0)
            {
                problems.Add($"{path}:Models must name at least one model (e.g. velma-2-stt-batch).");
            }
            foreach (var model in upstream.Models)
            {
                if (!ModelCatalog.TryGet(model, out _))
                {
                    problems.Add($"{path}:Models: no model is named '{model}'. Known models: {string.Join(", ", ModelCatalog.Names)}.");
                }
                else if (servedBy.TryGetValue(model, out var other))
                {
                    problems.Add($"{path}:Models: '{model}' is already served by {other}; a model has one upstream.");
                }
                else if (legacy.ContainsKey(model))
                {
                    problems.Add($"{path}:Models: '{model}' also has {TollgateOptions.Section}:Backends:{model}:Url; keep one of the two (Tollgate:Upstreams is the newer form).");
                }
                else
                {
                    servedBy[model] = path;
                }
            }
            if (upstream.Destinations.Count == 0)
            {
                problems.Add($"{path}:Destinations must name at least one destination, e.g. {path}:Destinations:a:Address=http://10.0.0.5:8080.");
            }
            foreach (var (id, destination) in upstream.Destinations)
            {
                CheckAddress(problems, $"{path}:Destinations:{id}:Address", destination.Address, required: true);
                CheckAddress(problems, $"{path}:Destinations:{id}:Health", destination.Health, required: false);
            }
            if (upstream.Timeout is { } timeout && timeout <= TimeSpan.Zero)
            {
                problems.Add($"{path}:Timeout must be a positive duration such as 00:01:40 (was {timeout}).");
            }
            if (upstream.MaxConnectionsPerServer is <= 0)
            {
                problems.Add($"{path}:MaxConnectionsPerServer must be at least 1 (was {upstream.MaxConnectionsPerServer}).");
            }
            if (upstream.HealthCheck.Active is { Enabled: true, Path: null or "" })
            {
                problems.Add($"{path}:HealthCheck:Active:Path is required when active health checks are enabled (e.g. /healthz).");
            }
            var cluster = ToCluster(name, upstream);
            if (problems.Count == before)
            {
                // YARP's own checks: policy names, intervals, addresses as it reads them.
                problems.AddRange(_validator.ValidateClusterAsync(cluster).AsTask().GetAwaiter().GetResult()
                    .Select(e => $"{path}: {StartupValidation.OneLine(e.Message)}"));
            }
            clusters.Add(cluster);
            foreach (var model in upstream.Models)
            {
                routes.TryAdd(model, new UpstreamRoute(name, upstream.ApiKey));
            }
        }
        // The single-URL form (validated with the rest of the Tollgate section): a cluster of one.
        foreach (var (model, backend) in legacy)
        {
            if (!string.IsNullOrWhiteSpace(backend.Url) && Uri.TryCreate(backend.Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                && ModelCatalog.TryGet(model, out _) && !routes.ContainsKey(model))
            {
                var id = LegacyClusterId(model);
                clusters.Add(new ClusterConfig
                {
                    ClusterId = id,
                    Destinations = new Dictionary<string, DestinationConfig> { ["url"] = new() { Address = backend.Url } },
                });
                routes[model] = new UpstreamRoute(id, backend.ApiKey);
            }
        }
        return new Snapshot(new UpstreamProxyConfig(clusters), routes, problems);
    }

    private static void CheckAddress(List<string> problems, string path, string? address, bool required)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            if (required)
            {
                problems.Add($"{path} is required (the model server's base URL, e.g. http://10.0.0.5:8080).");
            }
        }
        else if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0)
        {
            problems.Add($"{path} must be an absolute http:// or https:// URL without a query (was '{address}').");
        }
    }

    private static ClusterConfig ToCluster(string name, UpstreamOptions upstream) => new()
    {
        ClusterId = name,
        LoadBalancingPolicy = upstream.LoadBalancingPolicy,
        Destinations = upstream.Destinations.ToDictionary(
            d => d.Key,
            d => new DestinationConfig { Address = d.Value.Address ?? "", Health = string.IsNullOrWhiteSpace(d.Value.Health) ? null : d.Value.Health },
            StringComparer.OrdinalIgnoreCase),
        HealthCheck = new HealthCheckConfig
        {
            AvailableDestinationsPolicy = upstream.HealthCheck.AvailableDestinationsPolicy,
            Active = new ActiveHealthCheckConfig
            {
                Enabled = upstream.HealthCheck.Active.Enabled,
                Interval = upstream.HealthCheck.Active.Interval,
                Timeout = upstream.HealthCheck.Active.Timeout,
                Path = upstream.HealthCheck.Active.Path,
                Policy = upstream.HealthCheck.Active.Policy,
            },
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = upstream.HealthCheck.Passive.Enabled,
                ReactivationPeriod = upstream.HealthCheck.Passive.ReactivationPeriod,
                Policy = upstream.HealthCheck.Passive.Policy,
            },
        },
        HttpClient = new HttpClientConfig { MaxConnectionsPerServer = upstream.MaxConnectionsPerServer },
        HttpRequest = upstream.Timeout is { } timeout ? new ForwarderRequestConfig { ActivityTimeout = timeout } : null,
    };

    private sealed record Snapshot(UpstreamProxyConfig Config, IReadOnlyDictionary<string, UpstreamRoute> Routes, IReadOnlyList<string> Problems);

    /// <summary>Clusters only: Tollgate's own endpoints admit and forward; YARP holds no routes.</summary>
    private sealed class UpstreamProxyConfig : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public UpstreamProxyConfig(IReadOnlyList<ClusterConfig> clusters)
        {
            Clusters = clusters;
            ChangeToken = new CancellationChangeToken(_changed.Token);
        }

        public IReadOnlyList<RouteConfig> Routes { get; } = [];

        public IReadOnlyList<ClusterConfig> Clusters { get; }

        public IChangeToken ChangeToken { get; }

        /// <summary>Tells YARP this configuration is replaced (the source stays undisposed: YARP may still hold the token).</summary>
        public void Replaced() => _changed.Cancel();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The upstream configuration was changed but is not valid; the running one stays: {Problems}")]
    private static partial void LogReloadRefused(ILogger logger, string problems);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream configuration reloaded: {Count} clusters")]
    private static partial void LogReloaded(ILogger logger, int count);
}
