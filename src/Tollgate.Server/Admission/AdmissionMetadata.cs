using Tollgate.Models;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Admission;

/// <summary>The public surfaces that go through admission (DESIGN 1).</summary>
internal enum Surface
{
    Models,
    Platform,
    Dubbing,
}

/// <summary>
/// What admission needs to know about an endpoint, declared where the endpoint is mapped
/// (<see cref="AdmissionEndpointConventionBuilderExtensions.RequireAdmission{TBuilder}"/>) and read after routing from
/// <c>GetEndpoint()?.Metadata</c>: which surface's credential it takes, which model it serves, whether it holds a
/// concurrency lease and meters audio, and its request body limit. A request is judged as the endpoint it reaches,
/// however its path was spelled; a request that reaches no endpoint (404, 405, 415) is never authenticated.
/// </summary>
internal sealed record AdmissionMetadata
{
    public AdmissionMetadata(Surface surface, ModelDescriptor? model = null, bool metered = false, long? maxBodyBytes = null)
    {
        if (metered && model is null)
        {
            throw new ArgumentException("A metered endpoint serves one model.", nameof(model));
        }
        Surface = surface;
        Model = model;
        Metered = metered;
        MaxBodyBytes = maxBodyBytes;
        SurfaceName = surface switch
        {
            Surface.Models => RateLimitOptions.Models,
            Surface.Platform => RateLimitOptions.Platform,
            _ => RateLimitOptions.Dubbing,
        };
    }

    public Surface Surface { get; }

    /// <summary>The model the endpoint serves, or null on endpoints that are not per model.</summary>
    public ModelDescriptor? Model { get; }

    /// <summary>Whether a request holds a concurrency lease and is metered against the monthly quota.</summary>
    public bool Metered { get; }

    /// <summary>The largest request body the endpoint reads (enforced while reading, without buffering).</summary>
    public long? MaxBodyBytes { get; }

    /// <summary>The surface's name in configuration (<c>Tollgate:RateLimits:Surfaces</c>), metrics and logs.</summary>
    public string SurfaceName { get; }
}

internal static class AdmissionEndpointConventionBuilderExtensions
{
    /// <summary>Puts the endpoint (or every endpoint of a group) behind admission with <paramref name="metadata"/>.</summary>
    public static TBuilder RequireAdmission<TBuilder>(this TBuilder builder, AdmissionMetadata metadata) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(metadata);
}
