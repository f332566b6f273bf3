namespace Tollgate.Client.Models;

/// <summary>
/// How <see cref="TollgateModelsClient"/> retries a 429 (concurrency limit or request-rate window full): after the
/// server's <c>Retry-After</c> when it gives one, otherwise after an exponential backoff with full jitter. Nothing else
/// is retried: a used-up monthly quota (403) will not change by waiting, and other errors are the caller's to fix.
/// </summary>
public sealed record TollgateRetryOptions
{
    /// <summary>The defaults: 3 retries, 1 s base delay, 30 s cap.</summary>
    public static TollgateRetryOptions Default { get; } = new();

    /// <summary>No retries: a 429 surfaces at once as <see cref="TollgateRateLimitedException"/>.</summary>
    public static TollgateRetryOptions None { get; } = new() { MaxRetryAttempts = 0 };

    /// <summary>Retries after the first attempt; default 3. 0 turns retrying off.</summary>
    public int MaxRetryAttempts { get; init; } = 3;

    /// <summary>
    /// The backoff when the server sends no <c>Retry-After</c>: retry <c>n</c> (from 0) waits a random time between 0 and
    /// <c>BaseDelay × 2ⁿ</c>, at most <see cref="MaxDelay"/>. Default 1 s.
    /// </summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts, <c>Retry-After</c> included; default 30 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        var errors = Errors();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid TollgateRetryOptions: " + string.Join(" ", errors));
        }
    }

    internal List<string> Errors()
    {
        var errors = new List<string>();
        if (MaxRetryAttempts < 0)
        {
            errors.Add($"{nameof(MaxRetryAttempts)} must be 0 or more (was {MaxRetryAttempts}).");
        }
        if (BaseDelay < TimeSpan.Zero)
        {
            errors.Add($"{nameof(BaseDelay)} must not be negative (was {BaseDelay}).");
        }
        if (MaxDelay < TimeSpan.Zero)
        {
            errors.Add($"{nameof(MaxDelay)} must not be negative (was {MaxDelay}).");
        }
        return errors;
    }
}
