using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Tollgate.Observability;
using Tollgate.RateLimiting;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// Slows a key-guessing loop down (<see cref="AuthThrottleOptions"/>): every failed authentication is counted against
/// its source address in the request-rate window store (<see cref="IWindowCounter"/>, so a distributed store counts
/// across nodes), and an address past its limit gets 429 <c>auth_throttled</c> until the window ends. It is consulted
/// only after a credential has failed, so a valid key is never refused, and a key's comparison stays what it was
/// (constant time, on its hash). Memory stays bounded: windows that have ended are swept; an IPv6 client is counted by
/// its /64, the block one subscriber is usually given, so it cannot step to a fresh address per guess.
/// </summary>
internal sealed class AuthFailureThrottle
{
    private readonly IWindowCounter _counter;
    private readonly TollgateMetrics _metrics;
    private readonly AuthThrottleOptions _options;
    private readonly RuleSet _rules;

    public AuthFailureThrottle(IWindowCounter counter, TollgateMetrics metrics, IOptions<AuthThrottleOptions> options)
    {
        _counter = counter;
        _metrics = metrics;
        _options = options.Value;
        _rules = _options.Enabled ? RuleSet.Create(_options.Rule) : RuleSet.Empty;
    }

    /// <summary>
    /// Counts a failed authentication of <paramref name="surface"/> from the request's address; the answer to give:
    /// <paramref name="refusal"/> (the 401), or the 429 when the address is past its limit.
    /// </summary>
    public ValueTask<Rejection> FailedAsync(HttpContext context, string surface, Rejection refusal)
    {
        if (_rules.IsEmpty)
        {
            _metrics.AuthFailure(surface, refusal.Code, throttled: false);
            return new ValueTask<Rejection>(refusal);
        }
        var pending = _counter.TryAcquireAsync(Partition(context.Connection.RemoteIpAddress), _rules, context.RequestAborted);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<Rejection>(Judge(surface, refusal, pending.Result))
            : JudgeAsync(surface, refusal, pending);
    }

    private async ValueTask<Rejection> JudgeAsync(string surface, Rejection refusal, ValueTask<WindowDecision> pending) =>
        Judge(surface, refusal, await pending.ConfigureAwait(false));

    private Rejection Judge(string surface, Rejection refusal, WindowDecision decision)
    {
        _metrics.AuthFailure(surface, refusal.Code, throttled: !decision.Admitted);
        if (decision.Admitted)
        {
            return refusal;
        }
        var rule = decision.BlockingRule!;
        return new Rejection(StatusCodes.Status429TooManyRequests, CloseCodes.LimitExceeded, ErrorCodes.AuthThrottled,
            string.Create(CultureInfo.InvariantCulture,
                $"Too many failed authentications from this address ({rule.Limit} per {rule.WindowText}). Retry after {decision.RetryAfterSeconds} s with a valid credential; a valid one is never refused for this."),
            decision.RetryAfterSeconds);
    }

    /// <summary>The address a failure is counted against: IPv4 as it is, IPv6 by its /64.</summary>
    internal static string Partition(IPAddress? address)
    {
        if (address is null)
        {
            return "auth:unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return "auth:" + address;
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return "auth:" + new IPAddress(bytes) + "/64";
    }
}
