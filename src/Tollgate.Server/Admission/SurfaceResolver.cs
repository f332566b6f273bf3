using Tollgate.Models;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Admission;

/// <summary>Step 2's first half: which surface and model a path belongs to, without allocating.</summary>
internal static class SurfaceResolver
{
    /// <summary>
    /// Models API paths are <c>/api/{model}</c> and <c>/api/{model}/list-presets</c> for models of the catalog;
    /// Dubbing API paths are <c>/v1/...</c>. Anything else is not admitted here (routing answers 404 if nothing serves it).
    /// </summary>
    public static bool TryResolve(PathString path, out Surface surface, out ModelDescriptor? model, out bool metered)
    {
        surface = default;
        model = null;
        metered = false;
        var value = path.Value.AsSpan();
        if (value.StartsWith("/api/", StringComparison.Ordinal))
        {
            var rest = value[5..];
            var slash = rest.IndexOf('/');
            var name = slash < 0 ? rest : rest[..slash];
            var tail = slash < 0 ? [] : rest[slash..];
            var lookup = ModelCatalog.Lookup;
            if (!lookup.TryGetValue(name, out var found))
            {
                return false;
            }
            if (tail.IsEmpty)
            {
                metered = true;
            }
            else if (!(found.HasPresets && tail.SequenceEqual("/list-presets")))
            {
                return false;
            }
            surface = Surface.Models;
            model = found;
            return true;
        }
        if (value.StartsWith("/v1/", StringComparison.Ordinal) || value.SequenceEqual("/v1"))
        {
            surface = Surface.Dubbing;
            return true;
        }
        return false;
    }

    /// <summary>The surface's name in the rate-limit configuration (<c>Tollgate:RateLimits:Surfaces</c>).</summary>
    public static string ConfigurationName(Surface surface) => surface switch
    {
        Surface.Models => RateLimitOptions.Models,
        Surface.Platform => RateLimitOptions.Platform,
        _ => RateLimitOptions.Dubbing,
    };

    public static OperationClass Classify(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? OperationClass.Safe : OperationClass.Unsafe;
}
