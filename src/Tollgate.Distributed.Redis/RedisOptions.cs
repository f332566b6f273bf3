namespace Tollgate.Distributed.Redis;

/// <summary>What a node does while Redis does not answer.</summary>
internal enum RedisFailureMode
{
    /// <summary>Refuse what needs Redis with 503 <c>store_unavailable</c> (the default: no limit is ever loosened).</summary>
    Closed,

    /// <summary>Admit under this node's own in-process limiter (each node enforces the limits alone), logged and counted.</summary>
    Open,
}

/// <summary>
/// The <c>Tollgate:Redis</c> section. <see cref="FailureMode"/> is <c>Closed</c> or <c>Open</c>; <see cref="KeyPrefix"/>
/// starts every key and channel name, so several deployments (or test runs) can share one Redis.
/// </summary>
internal sealed record RedisOptions
{
    public const string SectionPath = "Tollgate:Redis";

    public string FailureMode { get; init; } = nameof(RedisFailureMode.Closed);

    public string KeyPrefix { get; init; } = "tollgate";

    /// <summary>The parsed <see cref="FailureMode"/> (valid once <see cref="Validate"/> found nothing).</summary>
    public RedisFailureMode FailureModeValue =>
        Enum.TryParse<RedisFailureMode>(FailureMode, ignoreCase: true, out var mode) ? mode : RedisFailureMode.Closed;

    public IEnumerable<string> Validate()
    {
        if (!Enum.TryParse<RedisFailureMode>(FailureMode, ignoreCase: true, out var mode) || !Enum.IsDefined(mode) || int.TryParse(FailureMode, out _))
        {
            yield return $"{SectionPath}:FailureMode must be Closed or Open (was '{FailureMode}').";
        }
        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.IndexOfAny(['{', '}', ' ']) >= 0 || KeyPrefix.Length > 64)
        {
            yield return $"{SectionPath}:KeyPrefix must be 1 to 64 characters without spaces or braces (was '{KeyPrefix}').";
        }
    }
}
