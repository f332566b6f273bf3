namespace Tollgate.RateLimiting;

public sealed class InProcessWindowCounterTests : WindowCounterContractTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    protected override IWindowCounter CreateCounter(TimeProvider time) => new InProcessWindowCounter(time, Minute, sweepInline: true);

    private InProcessWindowCounter InProcess => (InProcessWindowCounter)Counter;

    [Fact]
    public void TryAcquireAsync_CompletesSynchronously()
    {
        var pending = Counter.TryAcquireAsync(NewUser(), RuleSet.Create(Rule("r", 5, Minute)));
        Assert.True(pending.IsCompletedSuccessfully);
    }

    [Fact]
    public void TryAcquire_ExistingPartition_DoesNotAllocate()
    {
        var rules = RateLimitPolicy.Default.GetRules("Dubbing", OperationClass.Unsafe);
        var counter = InProcess;
        counter.TryAcquire("warm", rules);
        counter.TryAcquireAsync("warm", rules);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 400; i++)
        {
            counter.TryAcquire("warm", rules);
            Assert.True(counter.TryAcquireAsync("warm", rules).IsCompletedSuccessfully);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void TryAcquire_NoRules_KeepsNoState()
    {
        InProcess.TryAcquire(NewUser(), RuleSet.Empty);
        Assert.Equal(0, InProcess.PartitionCount);
    }

    [Fact]
    public void Sweep_RemovesPartitionsOnlyOnceAllTheirWindowsHaveEnded()
    {
        var minuteUser = NewUser();
        var hourUser = NewUser();
        InProcess.TryAcquire(minuteUser, RuleSet.Create(Rule("per-minute", 5, Minute)));
        InProcess.TryAcquire(hourUser, RuleSet.Create(Rule("per-minute", 5, Minute), Rule("per-hour", 5, TimeSpan.FromHours(1))));

        Time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 12, 1, 0, TimeSpan.Zero).AddTicks(-1));
        Assert.Equal(0, InProcess.Sweep());
        Time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, InProcess.Sweep());
        Assert.Equal(1, InProcess.PartitionCount);
        Time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, InProcess.Sweep());
        Assert.Equal(0, InProcess.PartitionCount);
    }

    [Fact]
    public void TryAcquire_SweepsIdlePartitions_OnceASweepIntervalHasPassed()
    {
        var rules = RuleSet.Create(Rule("per-minute", 5, Minute));
        for (var i = 0; i < 100; i++)
        {
            InProcess.TryAcquire(NewUser(), rules);
        }
        Assert.Equal(100, InProcess.PartitionCount);

        Time.Advance(TimeSpan.FromSeconds(59)); // 12:01:19: their windows ended, but no sweep is due before 12:01:20.25
        InProcess.TryAcquire("active", rules);
        Assert.Equal(101, InProcess.PartitionCount);

        Time.Advance(TimeSpan.FromSeconds(1.25));
        InProcess.TryAcquire("active", rules);
        Assert.Equal(1, InProcess.PartitionCount);
    }

    [Fact]
    public void TryAcquire_AfterSweep_StartsAFreshWindow()
    {
        var rules = RuleSet.Create(Rule("per-minute", 2, Minute));
        var user = NewUser();
        InProcess.TryAcquire(user, rules);
        InProcess.TryAcquire(user, rules);
        Time.Advance(Minute);
        InProcess.Sweep();

        var decision = InProcess.TryAcquire(user, rules);

        Assert.True(decision.Admitted);
        Assert.Equal(1, decision.Remaining);
    }

    [Fact]
    public async Task TryAcquire_RacingTheSweep_StillAdmitsExactlyTheLimit()
    {
        var rules = RuleSet.Create(Rule("per-minute", 200, Minute));
        var counter = InProcess;
        for (var round = 0; round < 20; round++)
        {
            var user = NewUser();
            var admitted = 0;
            using var stop = new CancellationTokenSource();
            var sweeper = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    counter.Sweep();
                }
            });
            var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                for (var i = 0; i < 50; i++)
                {
                    if (counter.TryAcquire(user, rules).Admitted)
                    {
                        Interlocked.Increment(ref admitted);
                    }
                }
            })).ToArray();
            await Task.WhenAll(clients);
            await stop.CancelAsync();
            await sweeper;

            Assert.Equal(200, admitted);
            Time.Advance(Minute);
        }
    }

    [Fact]
    public void TryAcquire_ClockStepsBack_GrantsNoSecondBudget()
    {
        var rules = RuleSet.Create(Rule("per-minute", 1, Minute));
        var clock = new SteppingClock { Now = new DateTimeOffset(2026, 11, 23, 12, 1, 5, TimeSpan.Zero) };
        var counter = new InProcessWindowCounter(clock);
        Assert.True(counter.TryAcquire("u", rules).Admitted);

        clock.Now = new DateTimeOffset(2026, 11, 23, 12, 0, 50, TimeSpan.Zero); // NTP stepped the clock back

        var decision = counter.TryAcquire("u", rules);
        Assert.False(decision.Admitted);
        Assert.Equal(Unix(12, 2), decision.ResetUnixSeconds);
    }

    [Fact]
    public void TryAcquire_RulesChange_KeepsCountsOfRulesThatRemain()
    {
        var user = NewUser();
        InProcess.TryAcquire(user, RuleSet.Create(Rule("global", 10, Minute)));
        InProcess.TryAcquire(user, RuleSet.Create(Rule("GLOBAL", 10, Minute), Rule("extra", 10, Minute)));

        // Same name (ignoring case) and window: the same counter. Another window length: another counter.
        var decision = InProcess.TryAcquire(user, RuleSet.Create(Rule("global", 10, Minute)));
        Assert.Equal(7, decision.Remaining);
        var otherWindow = InProcess.TryAcquire(user, RuleSet.Create(Rule("global", 10, TimeSpan.FromSeconds(30))));
        Assert.Equal(9, otherWindow.Remaining);
    }

    [Fact]
    public void TryAcquire_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => InProcess.TryAcquire(null!, RuleSet.Empty));
        Assert.Throws<ArgumentException>(() => InProcess.TryAcquire("", RuleSet.Empty));
        Assert.Throws<ArgumentNullException>(() => InProcess.TryAcquire("u", null!));
    }

    /// <summary>A wall clock that can step backwards, as a system clock can (FakeTimeProvider cannot).</summary>
    private sealed class SteppingClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
