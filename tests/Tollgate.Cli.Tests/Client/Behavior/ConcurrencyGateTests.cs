using System.Net.Http.Headers;

namespace Tollgate.Client.Behavior;

public sealed class ConcurrencyGateTests
{
    [Fact]
    public async Task Configured_LetsThatManyThrough_TheNextWaitsForAFreeSlot()
    {
        var gate = new ConcurrencyGate(2);
        var a = await gate.EnterAsync(default);
        var b = await gate.EnterAsync(default);
        var c = gate.EnterAsync(default).AsTask();
        await Task.Delay(20);
        Assert.False(c.IsCompleted);
        a.Dispose();
        (await c.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        b.Dispose();
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task Probing_OneAtATime_UntilResized()
    {
        var gate = new ConcurrencyGate(null);
        Assert.Equal((1, ConcurrencyLimitSource.Probing), (gate.Limit, gate.Source));
        var first = await gate.EnterAsync(default);
        var waiters = Enumerable.Range(0, 4).Select(_ => gate.EnterAsync(default).AsTask()).ToList();
        await Task.Delay(20);
        Assert.All(waiters, w => Assert.False(w.IsCompleted));

        Assert.True(gate.Resize(5, ConcurrencyLimitSource.Learned));
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(5, gate.InFlight);
        first.Dispose();
        foreach (var w in waiters)
        {
            (await w).Dispose();
        }
    }

    [Fact]
    public void Configured_IsNotReplacedByWhatAnswersSay()
    {
        var gate = new ConcurrencyGate(3);
        Assert.False(gate.Resize(10, ConcurrencyLimitSource.Learned));
        Assert.Equal(3, gate.Limit);
        Assert.True(gate.Resize(4, ConcurrencyLimitSource.Configured));
        Assert.Equal(4, gate.Limit);
    }

    [Fact]
    public async Task CancelledWait_LeavesTheQueueWithoutTakingASlot()
    {
        var gate = new ConcurrencyGate(1);
        var held = await gate.EnterAsync(default);
        using var cancel = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(cancel.Token).AsTask();
        var next = gate.EnterAsync(default).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        held.Dispose();
        (await next.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.Equal(0, gate.InFlight);
    }

    [Theory]
    [InlineData("\"concurrency\";q=5;qu=\"concurrent-requests\"", 5)]
    [InlineData("\"unsafe-minute\";q=500;w=60, \"concurrency\";q=3;qu=\"concurrent-requests\"", 3)]
    [InlineData("\"unsafe-minute\";q=500;w=60", null)]
    public void ConcurrencyPolicy_IsReadFromRateLimitPolicy(string header, int? expected)
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("RateLimit-Policy", header);
        Assert.Equal(expected, TollgateClientBehavior.ConcurrencyPolicy(response));
    }
}
