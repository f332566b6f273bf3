using Tollgate.Identity;
using Tollgate.Metering;
using Tollgate.Models;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Admission;

/// <summary>
/// What admission established about a request, carried on <c>HttpContext.Features</c> from step to step and into the
/// endpoint: the endpoint's metadata, who is calling, with which limits, and for a metered request its
/// <see cref="MeteredCall"/> (its lease and its audio reservation).
/// </summary>
internal sealed class AdmissionFeature(AdmissionMetadata metadata, bool isWebSocket, long startTimestamp)
{
    public AdmissionMetadata Metadata { get; } = metadata;

    public Surface Surface => Metadata.Surface;

    public ModelDescriptor? Model => Metadata.Model;

    public bool IsWebSocket { get; } = isWebSocket;

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the request's arrival at admission.</summary>
    public long StartTimestamp { get; } = startTimestamp;

    public OperationClass Operation { get; init; }

    /// <summary>Set by authentication.</summary>
    public Principal? Principal { get; set; }

    /// <summary>Set by authentication when it refuses a key it knows (revoked, expired, disabled user, another account's): the key's organization.</summary>
    public string? RefusedOrgId { get; set; }

    /// <summary>Set by the entitlement step: the caller's key's limits for <see cref="Model"/>.</summary>
    public ModelLimits? Limits { get; set; }

    /// <summary>Set by the concurrency step on metered endpoints: the lease and the metering of this request.</summary>
    public MeteredCall? Call { get; set; }
}
