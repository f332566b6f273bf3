using Tollgate.Identity;
using Tollgate.Models;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Admission;

/// <summary>The public surfaces that go through admission.</summary>
internal enum Surface
{
    Models,
    Platform,
    Dubbing,
}

/// <summary>
/// What admission established about a request, carried on <c>HttpContext.Features</c> from step to step and
/// into the endpoint: who is calling, which model, with which limits.
/// </summary>
internal sealed class AdmissionFeature
{
    public required Surface Surface { get; init; }

    /// <summary>The model the request is for (Models API), or null on surfaces that are not per model.</summary>
    public ModelDescriptor? Model { get; init; }

    /// <summary>Whether the request consumes concurrency and quota (list-presets does not).</summary>
    public bool Metered { get; init; }

    public required bool IsWebSocket { get; init; }

    public required OperationClass Operation { get; init; }

    /// <summary>Set by step 1.</summary>
    public Principal? Principal { get; set; }

    /// <summary>Set by step 2: the caller's key's limits for <see cref="Model"/>.</summary>
    public ModelLimits? Limits { get; set; }

    /// <summary>Set by step 5 for metered requests: the id the ledger records this request's charge under.</summary>
    public string? RequestId { get; set; }
}
