using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;

namespace Tollgate.Client.Behavior;

/// <summary>Pacing by the X-RateLimit-* headers on a fake clock: no test waits for a window.</summary>
public sealed class RateWindowPacerTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 10, 9, 0, 50, TimeSpan.Zero);
    private static readonly DateTimeOffset MinuteEnd = new(2026, 3, 10, 9, 1, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public async Task NothingKnown_GoesAtOnce()
    {
        var pacer = new RateWindowPacer(_time, TimeSpan.Zero);
        var turn = await pacer.WaitTurnAsync(default);
        Assert.Equal(TimeSpan.Zero, turn.Waited);
        Assert.Equal(1, pacer.Snapshot().InFlight);
    }

    [Fact]
    public async Task RemainingSpokenForByRequestsInFlight_TheNextWaitsForTheReset()
    {
        var pacer = new RateWindowPacer(_time, TimeSpan.Zero);
        var first = await pacer.WaitTurnAsync(default);
        pacer.Observe(first, Answer(HttpStatusCode.OK, limit: 50, remaining: 2, MinuteEnd));
        var second = await pacer.WaitTurnAsync(default);
        var third = await pacer.WaitTurnAsync(default);

        var fourth = pacer.WaitTurnAsync(default).AsTask();
        await Task.Delay(20);
        Assert.False(fourth.IsCompleted, "two left and two in flight: the fourth waits");

        _time.Advance(TimeSpan.FromSeconds(9.9));
        await Task.Delay(20);
        Assert.False(fourth.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        var turn = await fourth.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(10), turn.Waited);
        // The new window: its full limit, and only the fourth in it.
        Assert.Equal((50L, 50L, (DateTimeOffset?)null, 1), pacer.Snapshot());
        _ = (second, third);
    }

    [Fact]
    public async Task AnswersStillInFlight_CountAgainstWhatRemains()
    {
        var pacer = new RateWindowPacer(_time, TimeSpan.Zero);
        var turns = new List<RateWindowPacer.Turn>();
        for (var i = 0; i < 3; i++)
        {
            turns.Add(await pacer.WaitTurnAsync(default));
        }
        // The first answer says 3 remain; two of ours are still out, so one more may go.
        pacer.Observe(turns[0], Answer(HttpStatusCode.OK, 50, 3, MinuteEnd));
        await pacer.WaitTurnAsync(default).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        var blocked = pacer.WaitTurnAsync(default).AsTask();
        await Task.Delay(20);
        Assert.False(blocked.IsCompleted);
        // An answer that overtook a later one never raises the count.
        pacer.Observe(turns[1], Answer(HttpStatusCode.OK, 50, 10, MinuteEnd));
        Assert.Equal(3L, pacer.Snapshot().Remaining);
        _time.Advance(TimeSpan.FromSeconds(10));
        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A429RateLimited_ClosesTheWindowUntilRetryAfter()
    {
        var pacer = new RateWindowPacer(_time, TimeSpan.Zero);
        var turn = await pacer.WaitTurnAsync(default);
        var refused = Answer(HttpStatusCode.TooManyRequests, 50, 0, MinuteEnd);
        refused.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(10));
        pacer.Observe(turn, refused, RateWindowPacer.RateLimitedCode);

        var next = pacer.WaitTurnAsync(default).AsTask();
        _time.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(20);
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        await next.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A429ForConcurrency_DoesNotCloseTheWindow()
    {
        var pacer = new RateWindowPacer(_time, TimeSpan.Zero);
        var turn = await pacer.WaitTurnAsync(default);
        var refused = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
        pacer.Observe(turn, refused, "concurrency_limit");

        await pacer.WaitTurnAsync(default).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Waiting_IsCancellable()
    {
        var pacer = new RateWindowPacer(_time, TimeSpan.Zero);
        var turn = await pacer.WaitTurnAsync(default);
        pacer.Observe(turn, Answer(HttpStatusCode.OK, 50, 0, MinuteEnd));
        using var cancel = new CancellationTokenSource();
        var waiting = pacer.WaitTurnAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task ResetJitter_SpreadsTheWaitUpToItsBound()
    {
        var pacer = new RateWindowPacer(_time, TimeSpan.FromMilliseconds(250));
        var turn = await pacer.WaitTurnAsync(default);
        pacer.Observe(turn, Answer(HttpStatusCode.OK, 50, 0, MinuteEnd));
        var next = pacer.WaitTurnAsync(default).AsTask();
        _time.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(20);
        _time.Advance(TimeSpan.FromMilliseconds(250));
        var waited = (await next.WaitAsync(TimeSpan.FromSeconds(5))).Waited;
        Assert.InRange(waited, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10.25));
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, long limit, long remaining, DateTimeOffset reset)
    {
        var response = new HttpResponseMessage(status);
        response.Headers.Add(RateWindowPacer.LimitHeader, limit.ToString());
        response.Headers.Add(RateWindowPacer.RemainingHeader, remaining.ToString());
        response.Headers.Add(RateWindowPacer.ResetHeader, reset.ToUnixTimeSeconds().ToString());
        return response;
    }
}
