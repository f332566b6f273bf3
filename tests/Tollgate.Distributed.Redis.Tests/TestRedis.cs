using StackExchange.Redis;

namespace Tollgate.Distributed.Redis;

/// <summary>
/// The real redis-server the tests run against: <c>TOLLGATE_TEST_REDIS</c> (set by scripts/test.sh, which starts one on
/// 127.0.0.1 on a free port). Without it every Redis test fails, saying how to run them; none passes silently.
/// </summary>
internal static class TestRedis
{
    public const string Variable = "TOLLGATE_TEST_REDIS";

    private static readonly Lazy<ConnectionMultiplexer> Shared = new(() => Connect(Address));

    public static string Address => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } address
        ? address
        : throw new InvalidOperationException(
            $"{Variable} is not set: the Redis tests need a real redis-server. Run ./scripts/test.sh (it starts one), or start one and set "
            + $"{Variable}=127.0.0.1:PORT.");

    /// <summary>One connection for the whole run (as a node has).</summary>
    public static IConnectionMultiplexer Connection => Shared.Value;

    /// <summary>Keys of a test run never meet another run's.</summary>
    public static RedisKeys NewKeys() => new("tollgate-test-" + Guid.NewGuid().ToString("N")[..8]);

    public static ConnectionMultiplexer Connect(string address) =>
        ConnectionMultiplexer.Connect(RedisServiceCollectionExtensions.ParseConfiguration(address));
}
