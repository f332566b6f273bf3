using Microsoft.Extensions.Time.Testing;

namespace Tollgate.RateLimiting;

/// <summary>
/// What every <see cref="IWindowCounter"/> must do (in-process now, Redis later): inherit and implement
/// <see cref="CreateCounter"/>. Time comes from a <see cref="FakeTimeProvider"/>; nothing sleeps. Partitions are
/// fresh per test so that a shared store does not carry counts from one test to the next.
/// </summary>
public abstract class WindowCounterContractTests : IDisposable
{
    /// <summary>Monday 23 November 2026, 12:00:20.250 UTC: inside a minute window, not at its start.</summary>
    protected static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 20, 250, TimeSpan.Zero);

    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private IWindowCounter? _counter;
    private object? _counterLock;

    protected FakeTimeProvider Time { get; } = new(Start);

    /// <summary>Made on first use, once even when the first uses are concurrent (several tests start with parallel calls).</summary>
    protected IWindowCounter Counter => LazyInitializer.EnsureInitialized(ref _counter, ref _counterLock, () => CreateCounter(Time));

    /// <summary>A counter reading time from <paramref name="time"/>.</summary>
    protected abstract IWindowCounter CreateCounter(TimeProvider time);

    public void Dispose()
    {
        (_counter as IDisposable)?.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static string NewUser() => "user-" + Guid.NewGuid().ToString("N");

    protected static long Unix(int hour, int minute, int second = 0) =>
        new DateTimeOffset(2026, 11, 23, hour, minute, second, TimeSpan.Zero).ToUnixTimeSeconds();

    protected static RateRule Rule(string name, long limit, TimeSpan window, RuleScope scope = RuleScope.All) => new(name, limit, window, scope);

    protected WindowDecision Acquire(string user, RuleSet rules)
    {
        var pending = Counter.TryAcquireAsync(user, rules);
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The default rules with small limits: global 10/min, safe 6/min, unsafe-minute 3/min, unsafe-hour 5/hour.</summary>
    private protected static RateLimitPolicy SmallPolicy()
    {
        var settings = new RateLimitSettings();
        settings.Rules["global"]!.Limit = "10";
        settings.Rules["safe"]!.Limit = "6";
        settings.Rules["unsafe-minute"]!.Limit = "3";
        settings.Rules["unsafe-hour"]!.Limit = "5";
        return new RateLimitPolicy(settings.ToOptions());
    }

    /// <summary>How many requests <paramref name="rule"/>'s current window has counted for <paramref name="user"/> (the probe counts one more).</summary>
    private long CountedBefore(string user, RateRule rule)
    {
        var probe = Acquire(user, RuleSet.Create(rule));
        Assert.True(probe.Admitted, $"probe of {rule.Name} was rejected");
        return rule.Limit - probe.Remaining - 1;
    }

    private IReadOnlyList<WindowUsage> Peek(string user, RuleSet rules)
    {
        var pending = Counter.PeekAsync(user, rules);
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    [Fact]
    public void Peek_ReadsEachRulesCurrentWindow_WithoutCounting()
    {
        var minute = Rule("per-minute", 3, Minute);
        var hour = Rule("per-hour", 5, Hour);
        var rules = RuleSet.Create(minute, hour);
        var user = NewUser();

        Assert.Equal([new WindowUsage(minute, 0, Unix(12, 1)), new WindowUsage(hour, 0, Unix(13, 0))], Peek(user, rules));
        Acquire(user, rules);
        Acquire(user, rules);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal([new WindowUsage(minute, 2, Unix(12, 1)), new WindowUsage(hour, 2, Unix(13, 0))], Peek(user, rules));
        }
        Assert.Equal(1, Peek(user, rules)[0].Remaining);
        // Peeking counted nothing: exactly one more fits the minute.
        Assert.True(Acquire(user, rules).Admitted);
        Assert.False(Acquire(user, rules).Admitted);
        Assert.Equal([new WindowUsage(minute, 3, Unix(12, 1)), new WindowUsage(hour, 3, Unix(13, 0))], Peek(user, rules));
        Assert.Equal(0, Peek(user, rules)[0].Remaining);

        // A rule read alone, or in another order, reads the same counter; another user has counted nothing.
        Assert.Equal([new WindowUsage(hour, 3, Unix(13, 0))], Peek(user, RuleSet.Create(hour)));
        Assert.Equal([new WindowUsage(minute, 0, Unix(12, 1))], Peek(NewUser(), RuleSet.Create(minute)));
        Assert.Empty(Peek(user, RuleSet.Empty));
    }

    [Fact]
    public void Peek_AfterTheWindowEnds_ReadsTheNewWindowAtZero()
    {
        var minute = Rule("per-minute", 3, Minute);
        var hour = Rule("per-hour", 5, Hour);
        var rules = RuleSet.Create(minute, hour);
        var user = NewUser();
        Acquire(user, rules);
        Time.Advance(TimeSpan.FromSeconds(40)); // 12:01:00.250
        Assert.Equal([new WindowUsage(minute, 0, Unix(12, 2)), new WindowUsage(hour, 1, Unix(13, 0))], Peek(user, rules));
        Acquire(user, rules);
        Assert.Equal([new WindowUsage(minute, 1, Unix(12, 2)), new WindowUsage(hour, 2, Unix(13, 0))], Peek(user, rules));
    }

    [Fact]
    public void Acquire_WindowExhausted_ReturnsRetryAfter()
    {
        var rules = RuleSet.Create(Rule("per-minute", 3, Minute));
        var user = NewUser();
        for (var expected = 2; expected >= 0; expected--)
        {
            var admitted = Acquire(user, rules);
            Assert.True(admitted.Admitted);
            Assert.Equal(expected, admitted.Remaining);
            Assert.Equal(3, admitted.Limit);
            Assert.Equal(Unix(12, 1), admitted.ResetUnixSeconds);
            Assert.Equal(0, admitted.RetryAfterSeconds);
            Assert.Null(admitted.BlockingRule);
        }

        var rejected = Acquire(user, rules);

        Assert.False(rejected.Admitted);
        Assert.Equal("per-minute", rejected.BlockingRule!.Name);
        Assert.Equal("per-minute", rejected.Rule!.Name);
        Assert.Equal(0, rejected.Remaining);
        Assert.Equal(Unix(12, 1), rejected.ResetUnixSeconds);
        Assert.Equal(40, rejected.RetryAfterSeconds); // 39.75 s to 12:01:00, rounded up
        Assert.Equal(TimeSpan.FromSeconds(40), rejected.RetryAfter);
    }

    [Fact]
    public void Acquire_RetryAfter_IsAtLeastOneSecond()
    {
        var rules = RuleSet.Create(Rule("per-minute", 1, Minute));
        var user = NewUser();
        Assert.True(Acquire(user, rules).Admitted);
        Time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 12, 0, 59, 999, TimeSpan.Zero).AddTicks(9_999));

        var rejected = Acquire(user, rules);

        Assert.False(rejected.Admitted);
        Assert.Equal(1, rejected.RetryAfterSeconds);
    }

    [Fact]
    public void Acquire_AtWindowBoundary_AdmitsAgain_ButNotOneTickBefore()
    {
        var rules = RuleSet.Create(Rule("per-minute", 2, Minute));
        var user = NewUser();
        Assert.True(Acquire(user, rules).Admitted);
        Assert.True(Acquire(user, rules).Admitted);

        Time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 12, 1, 0, TimeSpan.Zero).AddTicks(-1));
        var justBefore = Acquire(user, rules);
        Assert.False(justBefore.Admitted);
        Assert.Equal(1, justBefore.RetryAfterSeconds);

        Time.Advance(TimeSpan.FromTicks(1));
        var atBoundary = Acquire(user, rules);
        Assert.True(atBoundary.Admitted);
        Assert.Equal(1, atBoundary.Remaining); // reset completely: a fresh window of 2
        Assert.Equal(Unix(12, 2), atBoundary.ResetUnixSeconds);
    }

    [Fact]
    public void Acquire_WindowsAreAlignedToTheClock_NotToTheFirstRequest()
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 12, 0, 59, TimeSpan.Zero));
        var rules = RuleSet.Create(Rule("per-minute", 1, Minute), Rule("per-hour", 100, Hour));
        var user = NewUser();
        var first = Acquire(user, rules);
        Assert.True(first.Admitted);
        Assert.Equal("per-minute", first.Rule!.Name);
        Assert.Equal(Unix(12, 1), first.ResetUnixSeconds);
        var rejected = Acquire(user, rules);
        Assert.False(rejected.Admitted);
        Assert.Equal(1, rejected.RetryAfterSeconds);

        Time.Advance(TimeSpan.FromSeconds(1)); // 12:01:00: a new minute, the same hour

        var next = Acquire(user, rules);
        Assert.True(next.Admitted);
        Assert.Equal(Unix(12, 2), next.ResetUnixSeconds);
        Assert.Equal(2, CountedBefore(user, Rule("per-hour", 100, Hour))); // the rejected request did not count
    }

    [Fact]
    public void Acquire_HourWindow_EndsOnTheHour()
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 12, 59, 59, TimeSpan.Zero));
        var rules = RuleSet.Create(Rule("per-hour", 1, Hour));
        var user = NewUser();
        var first = Acquire(user, rules);
        Assert.Equal(Unix(13, 0), first.ResetUnixSeconds);
        Assert.Equal(1, Acquire(user, rules).RetryAfterSeconds);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Acquire(user, rules).Admitted);
    }

    [Fact]
    public void Acquire_OddWindow_IsAlignedToMultiplesOfItsLengthInUnixTime()
    {
        // 7-second windows: [⌊t/7⌋·7, +7 s) in Unix seconds.
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var expectedEnd = (now / 7 + 1) * 7;
        var decision = Acquire(NewUser(), RuleSet.Create(Rule("odd", 5, TimeSpan.FromSeconds(7))));
        Assert.Equal(expectedEnd, decision.ResetUnixSeconds);
    }

    [Fact]
    public void Acquire_Get_CountsTowardGlobalAndSafe_NotUnsafe()
    {
        var policy = SmallPolicy();
        var user = NewUser();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Acquire(user, policy.GetRules("Dubbing", OperationClass.Safe)).Admitted);
        }

        var rules = policy.Options.Rules;
        Assert.Equal(4, CountedBefore(user, rules["global"]));
        Assert.Equal(4, CountedBefore(user, rules["safe"]));
        Assert.Equal(0, CountedBefore(user, rules["unsafe-minute"]));
        Assert.Equal(0, CountedBefore(user, rules["unsafe-hour"]));
    }

    [Fact]
    public void Acquire_Post_CountsTowardGlobalUnsafeMinuteAndUnsafeHour_NotSafe()
    {
        var policy = SmallPolicy();
        var user = NewUser();
        for (var i = 0; i < 2; i++)
        {
            Assert.True(Acquire(user, policy.GetRules("Dubbing", OperationClass.Unsafe)).Admitted);
        }

        var rules = policy.Options.Rules;
        Assert.Equal(2, CountedBefore(user, rules["global"]));
        Assert.Equal(0, CountedBefore(user, rules["safe"]));
        Assert.Equal(2, CountedBefore(user, rules["unsafe-minute"]));
        Assert.Equal(2, CountedBefore(user, rules["unsafe-hour"]));
    }

    [Fact]
    public void Acquire_RejectedByOneRule_ConsumesFromNoWindow()
    {
        var policy = SmallPolicy();
        var unsafeRules = policy.GetRules("Dubbing", OperationClass.Unsafe);
        var user = NewUser();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(Acquire(user, unsafeRules).Admitted);
        }
        for (var i = 0; i < 5; i++)
        {
            var rejected = Acquire(user, unsafeRules);
            Assert.False(rejected.Admitted);
            Assert.Equal("unsafe-minute", rejected.BlockingRule!.Name);
        }

        var rules = policy.Options.Rules;
        Assert.Equal(3, CountedBefore(user, rules["global"]));
        Assert.Equal(3, CountedBefore(user, rules["unsafe-hour"]));
    }

    [Fact]
    public void Acquire_RejectedBySeveralRules_BlamesTheOneResettingLast()
    {
        var rules = RuleSet.Create(Rule("per-minute", 1, Minute), Rule("per-hour", 1, Hour));
        var user = NewUser();
        Assert.True(Acquire(user, rules).Admitted);

        var rejected = Acquire(user, rules);

        Assert.False(rejected.Admitted);
        Assert.Equal("per-hour", rejected.BlockingRule!.Name);
        Assert.Equal("per-hour", rejected.Rule!.Name);
        Assert.Equal(Unix(13, 0), rejected.ResetUnixSeconds);
        Assert.Equal(3580, rejected.RetryAfterSeconds); // 12:00:20.25 → 13:00:00
    }

    [Fact]
    public void Acquire_HeadersNameTheRuleWithFewestRemaining()
    {
        var rules = RuleSet.Create(Rule("wide", 100, Minute), Rule("narrow", 10, Hour), Rule("medium", 50, Minute));
        var decision = Acquire(NewUser(), rules);
        Assert.Equal("narrow", decision.Rule!.Name);
        Assert.Equal(10, decision.Limit);
        Assert.Equal(9, decision.Remaining);
        Assert.Equal(Unix(13, 0), decision.ResetUnixSeconds);
    }

    [Fact]
    public void Acquire_HeadersTie_GoToTheLaterReset_ThenToTheRuleListedFirst()
    {
        var user = NewUser();
        var later = Acquire(user, RuleSet.Create(Rule("minute", 5, Minute), Rule("hour", 5, Hour)));
        Assert.Equal("hour", later.Rule!.Name);
        Assert.Equal(4, later.Remaining);

        var sameReset = Acquire(NewUser(), RuleSet.Create(Rule("first", 5, Minute), Rule("second", 5, Minute)));
        Assert.Equal("first", sameReset.Rule!.Name);
    }

    [Fact]
    public void Acquire_RejectedRequest_HeadersReportTheBlockingWindow()
    {
        var rules = RuleSet.Create(Rule("global", 100, Minute), Rule("tight", 1, Minute));
        var user = NewUser();
        Acquire(user, rules);
        var rejected = Acquire(user, rules);
        Assert.False(rejected.Admitted);
        Assert.Equal("tight", rejected.Rule!.Name);
        Assert.Equal(0, rejected.Remaining);
        Assert.Equal(1, rejected.Limit);
    }

    [Fact]
    public void Acquire_TwoPartitions_AreIndependent()
    {
        var rules = RuleSet.Create(Rule("per-minute", 2, Minute));
        var alice = NewUser();
        var bob = NewUser();
        Assert.True(Acquire(alice, rules).Admitted);
        Assert.True(Acquire(alice, rules).Admitted);
        Assert.False(Acquire(alice, rules).Admitted);

        var first = Acquire(bob, rules);
        Assert.True(first.Admitted);
        Assert.Equal(1, first.Remaining);
    }

    [Fact]
    public void Acquire_SameRuleOnTwoSurfaces_SharesOnePool()
    {
        var settings = new RateLimitSettings();
        settings.Rules["global"]!.Limit = "3";
        settings.Surfaces["Models"] = RuleNameList.Parse("global");
        var policy = new RateLimitPolicy(settings.ToOptions());
        var user = NewUser();
        Assert.True(Acquire(user, policy.GetRules("Models", OperationClass.Unsafe)).Admitted);
        Assert.True(Acquire(user, policy.GetRules("Dubbing", OperationClass.Safe)).Admitted);
        Assert.True(Acquire(user, policy.GetRules("Dubbing", OperationClass.Unsafe)).Admitted);

        var rejected = Acquire(user, policy.GetRules("Models", OperationClass.Safe));

        Assert.False(rejected.Admitted);
        Assert.Equal("global", rejected.BlockingRule!.Name);
    }

    [Fact]
    public void Acquire_NoRules_AdmitsWithoutHeaders()
    {
        var decision = Acquire(NewUser(), RuleSet.Empty);
        Assert.True(decision.Admitted);
        Assert.False(decision.HasRule);
        Assert.Equal(default, decision);
    }

    [Fact]
    public async Task Acquire_Cancelled_IsCancelled()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await Counter.TryAcquireAsync(NewUser(), RuleSet.Create(Rule("r", 1, Minute)), cts.Token));
    }

    [Fact]
    public async Task Acquire_64ParallelClients_AdmitExactlyTheLimit()
    {
        const int Clients = 64;
        const int AttemptsEach = 25;
        var global = Rule("global", 1_000, Minute);
        var tight = Rule("tight", 301, Minute);
        var hourly = Rule("hourly", 5_000, Hour);
        var rules = RuleSet.Create(global, tight, hourly);
        var user = NewUser();
        var counter = Counter;
        using var start = new ManualResetEventSlim();
        var admitted = 0;
        var clients = Enumerable.Range(0, Clients).Select(_ => Task.Factory.StartNew(async () =>
        {
            start.Wait();
            for (var i = 0; i < AttemptsEach; i++)
            {
                if ((await counter.TryAcquireAsync(user, rules)).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();

        start.Set();
        await Task.WhenAll(clients);

        Assert.Equal(301, admitted);
        Assert.Equal(301, CountedBefore(user, global)); // the 1,299 rejected requests consumed nothing
        Assert.Equal(301, CountedBefore(user, hourly));
    }

    [Fact]
    public void Seed_BulkDubCreation_HeadersNameUnsafeMinute()
    {
        // Create, preprocess, generate: three POSTs per dub, against 500/minute → 166 whole dubs a minute.
        var unsafeRules = RateLimitPolicy.Default.GetRules("Dubbing", OperationClass.Unsafe);
        var user = NewUser();
        for (var dub = 1; dub <= 166; dub++)
        {
            for (var step = 0; step < 3; step++)
            {
                var decision = Acquire(user, unsafeRules);
                Assert.True(decision.Admitted);
                Assert.Equal("unsafe-minute", decision.Rule!.Name);
                Assert.Equal(500, decision.Limit);
                Assert.Equal(500 - ((dub - 1) * 3 + step + 1), decision.Remaining);
                Assert.Equal(Unix(12, 1), decision.ResetUnixSeconds);
            }
        }
        Assert.True(Acquire(user, unsafeRules).Admitted); // dub 167: create
        Assert.True(Acquire(user, unsafeRules).Admitted); // preprocess

        var generate = Acquire(user, unsafeRules);

        Assert.False(generate.Admitted);
        Assert.Equal("unsafe-minute", generate.BlockingRule!.Name);
        Assert.Equal(40, generate.RetryAfterSeconds);
    }

    [Fact]
    public void Seed_StatusPolling_HeadersNameSafe()
    {
        var safeRules = RateLimitPolicy.Default.GetRules("Dubbing", OperationClass.Safe);
        var unsafeRules = RateLimitPolicy.Default.GetRules("Dubbing", OperationClass.Unsafe);
        var user = NewUser();
        for (var i = 0; i < 20; i++)
        {
            Assert.True(Acquire(user, unsafeRules).Admitted); // dubs created earlier this minute
        }
        for (var poll = 1; poll <= 50; poll++)
        {
            var decision = Acquire(user, safeRules); // GET /v1/me/dubs/{dubId}
            Assert.True(decision.Admitted);
            Assert.Equal("safe", decision.Rule!.Name);
            Assert.Equal(10_000, decision.Limit);
            Assert.Equal(10_000 - poll, decision.Remaining);
        }
    }

    [Fact]
    public void Seed_VoiceDiscovery_HeadersNameSafe()
    {
        var safeRules = RateLimitPolicy.Default.GetRules("Dubbing", OperationClass.Safe);
        var user = NewUser();
        var decision = Acquire(user, safeRules); // GET /v1/voices
        Assert.True(decision.Admitted);
        Assert.Equal("safe", decision.Rule!.Name);
        Assert.Equal(10_000, decision.Limit);
        Assert.Equal(9_999, decision.Remaining);
        Assert.Equal(Unix(12, 1), decision.ResetUnixSeconds);
    }
}
