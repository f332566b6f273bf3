using Tollgate.Distributed.Redis;

namespace Tollgate.Server.Hosting;

/// <summary>
/// Chooses where the hot-path state lives by <c>ConnectionStrings:Redis</c>: when set, rate windows, concurrency leases,
/// quota reservations and cache invalidation are in that Redis (so N nodes behind a load balancer decide as one);
/// when absent, in this process, as registered by <see cref="LimitsServiceCollectionExtensions.AddLimits"/>.
/// </summary>
internal static class DistributionServiceCollectionExtensions
{
    public const string ConnectionStringSetting = "ConnectionStrings:Redis";

    /// <exception cref="InvalidOperationException">The connection string is not one StackExchange.Redis reads.</exception>
    public static IServiceCollection AddTollgateDistribution(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<RedisOptions>(RedisOptions.SectionPath, static o => o.Validate());
        if (configuration.GetConnectionString("Redis") is not { Length: > 0 } connectionString)
        {
            return services;
        }
        try
        {
            services.AddRedisDistribution(connectionString);
        }
        catch (ArgumentException ex)
        {
            // The value itself is not repeated: it may carry a password.
            throw new InvalidOperationException($"{ConnectionStringSetting} is not a Redis configuration string this server can use: {ex.Message}.", ex);
        }
        return services;
    }
}
