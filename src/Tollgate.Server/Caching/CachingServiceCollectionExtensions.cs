using Tollgate.Caching;
using Tollgate.Dubbing;
using Tollgate.Identity;

namespace Tollgate.Server.Caching;

/// <summary>The caches in front of the store, where they are correct (see each decorator): whatever store was chosen.</summary>
internal static class CachingServiceCollectionExtensions
{
    /// <summary>Wraps the registered identity and dubbing stores; call after the store is registered.</summary>
    public static IServiceCollection AddStoreCaches(this IServiceCollection services)
    {
        Decorate<IIdentityStore>(services, static (sp, inner) => new CachingIdentityStore(inner, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ICacheInvalidation>()));
        Decorate<IDubbingStore>(services, static (sp, inner) => new CachingDubbingStore(inner, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ICacheInvalidation>(), sp.GetRequiredService<ILogger<CachingDubbingStore>>()));
        return services;
    }

    private static void Decorate<T>(IServiceCollection services, Func<IServiceProvider, T, T> wrap) where T : class
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(T))
            ?? throw new InvalidOperationException($"No {typeof(T).Name} is registered to put a cache in front of.");
        services.Remove(registered);
        services.AddSingleton<T>(sp => wrap(sp, (T)(registered.ImplementationInstance
            ?? registered.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!))));
    }
}
