namespace Tollgate.Server.Backends.Upstreams;

/// <summary>
/// One upstream of <c>Tollgate:Upstreams:{name}</c>: the model servers that serve <see cref="Models"/>, as a YARP
/// cluster (its destinations, load balancing, health checks and timeouts) with the credential Tollgate presents there.
/// The setting names are YARP's own where they are YARP's.
/// </summary>
internal sealed record UpstreamOptions
{
    public const string SectionPath = "Tollgate:Upstreams";

    /// <summary>The models (path names, <c>velma-2-stt-batch</c>) this upstream serves, batch and streaming alike.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Per destination id: its address (<c>http://10.0.0.5:8080</c>) and, optionally, a separate address for the health probe.</summary>
    public Dictionary<string, UpstreamDestinationOptions> Destinations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>YARP's policy names: <c>PowerOfTwoChoices</c> (default), <c>RoundRobin</c>, <c>LeastRequests</c>, <c>Random</c>, <c>FirstAlphabetical</c>.</summary>
    public string? LoadBalancingPolicy { get; set; }

    /// <summary>The key Tollgate presents upstream: <c>X-API-Key</c> on HTTP, <c>api_key</c> on WebSocket (the caller's key is never forwarded).</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long the upstream may stay silent (no request or response bytes moving) before the call fails with 504 (default 100 s).</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>At most this many connections to each destination (default: unlimited).</summary>
    public int? MaxConnectionsPerServer { get; set; }

    public UpstreamHealthOptions HealthCheck { get; set; } = new();
}

internal sealed record UpstreamDestinationOptions
{
    public string? Address { get; set; }

    /// <summary>Where the active health probe goes instead of <see cref="Address"/> (an admin port, say).</summary>
    public string? Health { get; set; }
}

internal sealed record UpstreamHealthOptions
{
    public ActiveHealthOptions Active { get; set; } = new();

    public PassiveHealthOptions Passive { get; set; } = new();

    /// <summary>YARP's <c>HealthyAndUnknown</c> (default) or <c>HealthyOrPanic</c> (every destination when none is healthy).</summary>
    public string? AvailableDestinationsPolicy { get; set; }
}

/// <summary>A GET of <see cref="Path"/> on every destination each <see cref="Interval"/>: not 2xx in <see cref="Timeout"/> takes it out until a probe succeeds.</summary>
internal sealed record ActiveHealthOptions
{
    public bool Enabled { get; set; }

    public TimeSpan? Interval { get; set; }

    public TimeSpan? Timeout { get; set; }

    /// <summary>The probe path, e.g. <c>/healthz</c>.</summary>
    public string? Path { get; set; }

    /// <summary>YARP's active policy: <c>ConsecutiveFailures</c> (default).</summary>
    public string? Policy { get; set; }
}

/// <summary>
/// Requests that fail at the transport (refused, reset, timed out) or are answered 5xx take a destination out for
/// <see cref="ReactivationPeriod"/> once they are more than YARP's failure rate of its recent calls.
/// </summary>
internal sealed record PassiveHealthOptions
{
    public bool Enabled { get; set; }

    public TimeSpan? ReactivationPeriod { get; set; }

    /// <summary>YARP's passive policy: <c>TransportFailureRate</c> (default).</summary>
    public string? Policy { get; set; }
}
