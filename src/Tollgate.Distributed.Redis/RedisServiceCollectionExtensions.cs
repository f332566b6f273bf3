using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Tollgate.Caching;
using Tollgate.Distributed.Redis.FailOpen;
using Tollgate.Distributed.Redis.Health;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Observability;
using Tollgate.RateLimiting;

namespace Tollgate.Distributed.Redis;

/// <summary>Distributed mode's hot-path state in one call: what a host registers when <c>ConnectionStrings:Redis</c> is set.</summary>
internal static class RedisServiceCollectionExtensions
{
    /// <summary>How long a Redis call may take before the node treats Redis as unavailable (unless the connection string says).</summary>
    internal const int DefaultTimeoutMs = 2_000;

    /// <summary>
    /// Puts the rate windows, concurrency leases, quota reservations and cache invalidation in the Redis named by
    /// <paramref name="connectionString"/> (a StackExchange.Redis configuration string), replacing the in-process ones.
    /// Reads <see cref="RedisOptions"/> (<c>Tollgate:Redis</c>) and <see cref="LeaseOptions"/> (<c>Tollgate:Leases</c>) from
    /// the container; with <see cref="RedisFailureMode.Open"/> each store falls back to this node's in-process one while
    /// Redis does not answer. The node starts whether or not Redis answers, and reconnects by itself.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is not a configuration string.</exception>
    public static IServiceCollection AddRedisDistribution(this IServiceCollection services, string connectionString)
    {
        var configuration = ParseConfiguration(connectionString);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Tollgate.Distributed.Redis");
            var multiplexer = ConnectionMultiplexer.Connect(configuration);
            if (!multiplexer.IsConnected)
            {
                LogNotConnected(logger, string.Join(", ", configuration.EndPoints));
            }
            return multiplexer;
        });
        services.AddSingleton(sp => new RedisKeys(sp.GetRequiredService<IOptions<RedisOptions>>().Value.KeyPrefix));
        services.AddSingleton<FailOpenGuard>();
        services.AddSingleton(sp => new RedisWindowCounter(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RedisKeys>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RedisLeaseTable>(sp));
        services.AddSingleton(sp => new RedisQuotaMeter(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RedisKeys>(),
            sp.GetRequiredService<IUsageLedger>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<LeaseOptions>>().Value.TtlValue,
            sp.GetRequiredService<ILogger<RedisQuotaMeter>>()));

        services.Replace(ServiceDescriptor.Singleton<IWindowCounter>(sp => FailsOpen(sp)
            ? new FailOpenWindowCounter(sp.GetRequiredService<RedisWindowCounter>(), new InProcessWindowCounter(sp.GetRequiredService<TimeProvider>()),
                sp.GetRequiredService<FailOpenGuard>())
            : sp.GetRequiredService<RedisWindowCounter>()));
        services.Replace(ServiceDescriptor.Singleton<ILeaseTable>(sp => FailsOpen(sp)
            ? new FailOpenLeaseTable(sp.GetRequiredService<RedisLeaseTable>(), new InProcessLeaseTable(sp.GetRequiredService<TimeProvider>()),
                sp.GetRequiredService<FailOpenGuard>())
            : sp.GetRequiredService<RedisLeaseTable>()));
        services.Replace(ServiceDescriptor.Singleton<IQuotaMeter>(sp => FailsOpen(sp)
            ? new FailOpenQuotaMeter(sp.GetRequiredService<RedisQuotaMeter>(), new InProcessQuotaMeter(sp.GetRequiredService<IUsageLedger>()),
                sp.GetRequiredService<FailOpenGuard>())
            : sp.GetRequiredService<RedisQuotaMeter>()));
        services.Replace(ServiceDescriptor.Singleton<ICacheInvalidation>(sp => ActivatorUtilities.CreateInstance<RedisCacheInvalidation>(sp)));
        services.AddHostedService<RedisQuotaRenewal>();
        // Readiness (/readyz runs every check tagged "ready"): the node's own connection answers.
        services.AddHealthChecks().Add(new HealthCheckRegistration(RedisHealthCheck.Name,
            sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<RedisOptions>>().Value.FailureModeValue),
            failureStatus: null, tags: ["ready"], timeout: TimeSpan.FromSeconds(5)));
        return services;
    }

    /// <summary>
    /// The connection string as StackExchange.Redis reads it, made to suit a gateway's hot path unless it says otherwise:
    /// start and keep retrying while Redis is down (<c>abortConnect=false</c>), fail a call at once rather than queue it
    /// while disconnected, and give up on a call after <see cref="DefaultTimeoutMs"/>.
    /// </summary>
    internal static ConfigurationOptions ParseConfiguration(string connectionString)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or NotSupportedException)
        {
            throw new ArgumentException($"not a StackExchange.Redis configuration string ({ex.Message})", nameof(connectionString), ex);
        }
        if (options.EndPoints.Count == 0)
        {
            throw new ArgumentException("it names no Redis endpoint (e.g. 127.0.0.1:6379)", nameof(connectionString));
        }
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        if (!Mentions(connectionString, "syncTimeout"))
        {
            options.SyncTimeout = DefaultTimeoutMs;
        }
        if (!Mentions(connectionString, "asyncTimeout"))
        {
            options.AsyncTimeout = DefaultTimeoutMs;
        }
        if (!Mentions(connectionString, "connectTimeout"))
        {
            options.ConnectTimeout = DefaultTimeoutMs;
        }
        options.ClientName ??= "tollgate";
        return options;
    }

    private static bool Mentions(string connectionString, string option) =>
        connectionString.Contains(option + "=", StringComparison.OrdinalIgnoreCase);

    private static bool FailsOpen(IServiceProvider sp) =>
        sp.GetRequiredService<IOptions<RedisOptions>>().Value.FailureModeValue == RedisFailureMode.Open;

    private static void LogNotConnected(ILogger logger, string endpoints) =>
        logger.LogWarning("Redis ({Endpoints}) does not answer yet; this node keeps trying, and answers by Tollgate:Redis:FailureMode meanwhile", endpoints);
}
