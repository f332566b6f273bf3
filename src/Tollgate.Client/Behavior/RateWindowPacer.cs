using System.Globalization;
using System.Net;

namespace Tollgate.Client.Behavior;

/// <summary>
/// Paces one class of requests (safe or unsafe: the server shows each its most restrictive rule) from the
/// <c>X-RateLimit-Limit/Remaining/Reset</c> of the answers: while the window has requests left a request goes at once;
/// when what is left is already spoken for by requests in flight, the next one waits for the window's reset (plus a
/// little jitter, so many clients do not all start on the same millisecond) instead of spending a 429. A 429 with
/// <c>Retry-After</c> closes the window until then. A window that has reset is assumed to hold its full limit again until
/// an answer says otherwise.
/// </summary>
internal sealed class RateWindowPacer(TimeProvider time, TimeSpan resetJitter)
{
    public const string LimitHeader = "X-RateLimit-Limit";
    public const string RemainingHeader = "X-RateLimit-Remaining";
    public const string ResetHeader = "X-RateLimit-Reset";

    /// <summary>The code of a 429 for a full request-rate window (a concurrency 429 is <c>concurrency_limit</c>).</summary>
    public const string RateLimitedCode = "rate_limited";

    private readonly Lock _lock = new();
    private long? _limit;
    private long? _remaining;
    private DateTimeOffset? _reset;

    /// <summary>Bumped when a window is known to have reset: requests sent before no longer count against the new one.</summary>
    private long _epoch;

    /// <summary>Requests sent in this epoch that have not been answered.</summary>
    private int _inFlight;

    /// <summary>Completed (and replaced) whenever an answer is taken in, so waiters look again before the reset.</summary>
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A request's turn: the epoch it was sent in, for <see cref="Observe"/>.</summary>
    public readonly record struct Turn(long Epoch, TimeSpan Waited);

    /// <summary>Waits until the window has room for one more request, and counts it in flight.</summary>
    public async ValueTask<Turn> WaitTurnAsync(CancellationToken cancellationToken)
    {
        var waited = TimeSpan.Zero;
        while (true)
        {
            TimeSpan wait;
            Task changed;
            lock (_lock)
            {
                var now = time.GetUtcNow();
                if (_reset is { } reset && now >= reset)
                {
                    // The window rolled over: the full limit again, none of ours in it yet.
                    _remaining = _limit;
                    _reset = null;
                    _epoch++;
                    _inFlight = 0;
                }
                if (_remaining is null || _remaining - _inFlight > 0 || _reset is null)
                {
                    _inFlight++;
                    return new Turn(_epoch, waited);
                }
                wait = _reset.Value - now + Jitter();
                changed = _changed.Task;
            }
            var started = time.GetTimestamp();
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var delay = Task.Delay(wait, time, timer.Token);
                await Task.WhenAny(delay, changed).ConfigureAwait(false);
                await timer.CancelAsync().ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            waited += time.GetElapsedTime(started);
        }
    }

    /// <summary>Takes in what an answer says of the window (or nothing when it has no such headers), and ends its turn.</summary>
    /// <param name="turn">The turn <see cref="WaitTurnAsync"/> gave the request.</param>
    /// <param name="response">The answer, or null when the request failed without one.</param>
    /// <param name="refusalCode">The body's <c>code</c> of a 429 (<c>rate_limited</c> closes the window until <c>Retry-After</c>).</param>
    public void Observe(Turn turn, HttpResponseMessage? response, string? refusalCode = null)
    {
        lock (_lock)
        {
            if (turn.Epoch == _epoch && _inFlight > 0)
            {
                _inFlight--;
            }
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (response is null)
            {
                return;
            }
            var now = time.GetUtcNow();
            if (Read(response, LimitHeader) is { } limit && Read(response, RemainingHeader) is { } remaining && Read(response, ResetHeader) is { } resetSeconds)
            {
                var reset = DateTimeOffset.FromUnixTimeSeconds(resetSeconds);
                _limit = limit;
                if (reset > now)
                {
                    if (_reset is null || reset > _reset)
                    {
                        // A later window than the one known (or the first seen): its count replaces ours.
                        _reset = reset;
                        _remaining = remaining;
                    }
                    else if (reset == _reset)
                    {
                        // Answers overtake each other: the lowest count is the latest.
                        _remaining = Math.Min(_remaining ?? remaining, remaining);
                    }
                }
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests && refusalCode == RateLimitedCode)
            {
                // The window is full until Retry-After says: nothing more goes before then.
                var until = now + (Http.ApiErrors.RetryAfter(response, time) ?? TimeSpan.FromSeconds(1));
                _remaining = 0;
                if (_reset is null || until > _reset)
                {
                    _reset = until;
                }
            }
        }
    }

    /// <summary>The window as last seen (for tests and diagnostics).</summary>
    public (long? Limit, long? Remaining, DateTimeOffset? Reset, int InFlight) Snapshot()
    {
        lock (_lock)
        {
            return (_limit, _remaining, _reset, _inFlight);
        }
    }

    private TimeSpan Jitter() => resetJitter <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * resetJitter.Ticks));

    private static long? Read(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;
}
