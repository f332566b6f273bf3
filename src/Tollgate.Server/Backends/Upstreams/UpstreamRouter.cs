using System.Runtime.CompilerServices;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Tollgate.Server.Backends.Upstreams;

/// <summary>
/// Picks a destination of a cluster as YARP's own pipeline would (the destinations its health checks leave
/// available, then the cluster's load-balancing policy), counts the calls in flight on it (what
/// <c>LeastRequests</c> and <c>PowerOfTwoChoices</c> compare), and reports each call's outcome to the cluster's
/// passive health policy.
/// </summary>
internal sealed class UpstreamRouter
{
    private readonly IProxyStateLookup _state;
    private readonly Dictionary<string, ILoadBalancingPolicy> _balancers;
    private readonly Dictionary<string, IPassiveHealthCheckPolicy> _passive;
    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _inFlight = new();

    public UpstreamRouter(IProxyStateLookup state, IEnumerable<ILoadBalancingPolicy> balancers, IEnumerable<IPassiveHealthCheckPolicy> passive)
    {
        _state = state;
        _balancers = balancers.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _passive = passive.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A destination of <paramref name="clusterId"/> other than <paramref name="except"/>, or null when none is available
    /// (the cluster unknown, every destination out by its health checks).
    /// </summary>
    public Pick? Choose(string clusterId, HttpContext context, DestinationState? except = null)
    {
        if (!_state.TryGetCluster(clusterId, out var cluster))
        {
            return null;
        }
        IReadOnlyList<DestinationState> available = cluster.DestinationsState.AvailableDestinations;
        if (except is not null)
        {
            available = available.Where(d => !ReferenceEquals(d, except)).ToList();
        }
        var destination = available.Count switch
        {
            0 => null,
            1 => available[0],
            _ => Balancer(cluster).PickDestination(context, cluster, available),
        };
        return destination is null ? null : new Pick(this, cluster, destination);
    }

    private ILoadBalancingPolicy Balancer(ClusterState cluster) =>
        _balancers.TryGetValue(cluster.Model.Config.LoadBalancingPolicy ?? LoadBalancingPolicies.PowerOfTwoChoices, out var policy)
            ? policy
            : _balancers[LoadBalancingPolicies.PowerOfTwoChoices];

    /// <summary>
    /// The outcome of a call forwarded to <paramref name="pick"/>, for the cluster's passive health policy: a transport
    /// failure (YARP's <c>IForwarderErrorFeature</c>), or, with <paramref name="answeredFailure"/>, an answer the
    /// destination gave that Tollgate does not pass on (a 5xx). YARP's <c>TransportFailureRate</c> policy reads only
    /// the error feature, so a 5xx is reported to it as a failed request (<see cref="ForwarderError.Request"/>: the
    /// destination did not give a usable answer), for the duration of the report only.
    /// </summary>
    public void Report(HttpContext context, Pick pick, bool answeredFailure = false)
    {
        var options = pick.Cluster.Model.Config.HealthCheck?.Passive;
        if (options?.Enabled != true
            || !_passive.TryGetValue(options.Policy ?? HealthCheckConstants.PassivePolicy.TransportFailureRate, out var policy))
        {
            return;
        }
        if (!answeredFailure || context.Features.Get<IForwarderErrorFeature>() is not null)
        {
            policy.RequestProxied(context, pick.Cluster, pick.Destination);
            return;
        }
        context.Features.Set<IForwarderErrorFeature>(AnsweredFailure.Instance);
        try
        {
            policy.RequestProxied(context, pick.Cluster, pick.Destination);
        }
        finally
        {
            context.Features.Set<IForwarderErrorFeature>(null);
        }
    }

    /// <summary>A destination's 5xx answer, as the passive health policies read a failure.</summary>
    private sealed class AnsweredFailure : IForwarderErrorFeature
    {
        public static readonly AnsweredFailure Instance = new();

        public ForwarderError Error => ForwarderError.Request;

        public Exception? Exception => null;
    }

    private void Enter(DestinationState destination)
    {
        var count = _inFlight.GetValue(destination, static _ => new StrongBox<int>());
        destination.ConcurrentRequestCount = Interlocked.Increment(ref count.Value);
    }

    private void Leave(DestinationState destination)
    {
        if (_inFlight.TryGetValue(destination, out var count))
        {
            destination.ConcurrentRequestCount = Interlocked.Decrement(ref count.Value);
        }
    }

    /// <summary>A chosen destination, counted in flight until disposed.</summary>
    internal sealed class Pick : IDisposable
    {
        private readonly UpstreamRouter _router;
        private int _left;

        public Pick(UpstreamRouter router, ClusterState cluster, DestinationState destination)
        {
            _router = router;
            Cluster = cluster;
            Destination = destination;
            // The model read once: a reload mid-call changes the next call, not this one.
            Model = cluster.Model;
            router.Enter(destination);
        }

        public ClusterState Cluster { get; }

        public ClusterModel Model { get; }

        public DestinationState Destination { get; }

        public string Address => Destination.Model.Config.Address;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                _router.Leave(Destination);
            }
        }
    }
}
