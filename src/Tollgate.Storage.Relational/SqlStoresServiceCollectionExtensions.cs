using Microsoft.Extensions.DependencyInjection;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Metering;
using Tollgate.Platform;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Relational.Identity;
using Tollgate.Storage.Relational.Jobs;
using Tollgate.Storage.Relational.Metering;
using Tollgate.Storage.Relational.Platform;

namespace Tollgate.Storage.Relational;

/// <summary>The durable stores on whichever <see cref="SqlDatabase"/> the engine's project registered (migrated before it is handed out).</summary>
internal static class SqlStoresServiceCollectionExtensions
{
    /// <summary>Registers the identity store, the admin tokens, the usage ledger, the rejection counts, the dubbing store, the job store and the Platform API store on the registered <see cref="SqlDatabase"/>.</summary>
    public static IServiceCollection AddSqlStores(this IServiceCollection services)
    {
        services.AddSingleton<IIdentityStore>(sp => new SqlIdentityStore(sp.GetRequiredService<SqlDatabase>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IAdminTokenStore>(sp => new SqlAdminTokenStore(sp.GetRequiredService<SqlDatabase>()));
        services.AddSingleton<IUsageLedger>(sp => new SqlUsageLedger(sp.GetRequiredService<SqlDatabase>()));
        services.AddSingleton<IRejectionStore>(sp => new SqlRejectionStore(sp.GetRequiredService<SqlDatabase>()));
        services.AddSingleton<IDubbingStore>(sp => new SqlDubbingStore(sp.GetRequiredService<SqlDatabase>()));
        services.AddSingleton<IJobStore>(sp => new SqlJobStore(sp.GetRequiredService<SqlDatabase>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IPlatformStore>(sp => new SqlPlatformStore(sp.GetRequiredService<SqlDatabase>()));
        return services;
    }
}
