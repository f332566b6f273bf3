using StackExchange.Redis;

namespace Tollgate.Distributed.Redis;

/// <summary>Which exceptions mean "Redis did not answer" (the failure modes apply), as opposed to a bug.</summary>
internal static class RedisFailures
{
    public static bool IsUnavailable(Exception ex) => ex switch
    {
        StoreUnavailableException => true,
        RedisConnectionException or RedisTimeoutException or TimeoutException => true,
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal),
        RedisException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsUnavailable),
        _ => false,
    };

    /// <summary>Runs one Redis call; "Redis did not answer" becomes a <see cref="StoreUnavailableException"/>.</summary>
    public static async Task<T> Guard<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not StoreUnavailableException && IsUnavailable(ex))
        {
            throw AsUnavailable(ex);
        }
    }

    /// <summary>"Redis did not answer" as a <see cref="StoreUnavailableException"/>; any other exception as it is.</summary>
    public static Exception AsUnavailable(Exception ex) =>
        ex is not StoreUnavailableException && IsUnavailable(ex) ? new StoreUnavailableException("Redis did not answer: " + ex.Message, ex) : ex;
}
