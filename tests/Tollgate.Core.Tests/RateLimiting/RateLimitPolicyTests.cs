namespace Tollgate.RateLimiting;

public sealed class RateLimitPolicyTests
{
    private static string[] Names(RuleSet rules) => rules.Rules.Select(r => r.Name).ToArray();

    [Fact]
    public void Default_DubbingCarriesTheFourRules_ByOperationClass()
    {
        var policy = RateLimitPolicy.Default;
        Assert.Equal(["global", "safe"], Names(policy.GetRules("Dubbing", OperationClass.Safe)));
        Assert.Equal(["global", "unsafe-minute", "unsafe-hour"], Names(policy.GetRules("Dubbing", OperationClass.Unsafe)));
        Assert.True(policy.GetRules("Models", OperationClass.Unsafe).IsEmpty);
        Assert.True(policy.GetRules("platform", OperationClass.Safe).IsEmpty);
        Assert.True(policy.IsLimited("Dubbing"));
        Assert.False(policy.IsLimited("Models"));
    }

    [Fact]
    public void GetRules_IsComputedOnce()
    {
        var policy = RateLimitPolicy.Default;
        Assert.Same(policy.GetRules("Dubbing", OperationClass.Safe), policy.GetRules("dubbing", OperationClass.Safe));
    }

    [Fact]
    public void GetRules_UnknownSurface_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RateLimitPolicy.Default.GetRules("Admin", OperationClass.Safe));
        Assert.Throws<ArgumentOutOfRangeException>(() => RateLimitPolicy.Default.GetRules("Dubbing", (OperationClass)7));
    }

    [Fact]
    public void Constructor_InvalidOptionsBuiltInCode_ListsEveryError()
    {
        var rules = new Dictionary<string, RateRule>
        {
            ["zero"] = new("zero", 0, TimeSpan.FromMinutes(1), RuleScope.All),
            ["fraction"] = new("fraction", 5, TimeSpan.FromMilliseconds(1_500), (RuleScope)9),
            ["key"] = new("other", 5, TimeSpan.FromDays(2), RuleScope.Safe),
        };
        var surfaces = new Dictionary<string, IReadOnlyList<string>> { ["Dubbing"] = ["zero", "ghost"] };

        var thrown = Assert.Throws<InvalidOperationException>(() => new RateLimitPolicy(new RateLimitOptions(rules, surfaces)));

        Assert.Contains("(6 errors)", thrown.Message);
        Assert.Contains("Tollgate:RateLimits:Rules:zero:Limit must be a positive integer (was 0).", thrown.Message);
        Assert.Contains("Tollgate:RateLimits:Rules:fraction:Window must be a whole number of seconds (was 00:00:01.5000000).", thrown.Message);
        Assert.Contains("Tollgate:RateLimits:Rules:fraction:AppliesTo must be one of All, Safe (GET, HEAD) or Unsafe (POST, PATCH, PUT, DELETE) (was 9).", thrown.Message);
        Assert.Contains("Tollgate:RateLimits:Rules:key:Name must equal its key 'key' (was 'other').", thrown.Message);
        Assert.Contains("Tollgate:RateLimits:Rules:key:Window must be at most 1 day (was 2.00:00:00).", thrown.Message);
        Assert.Contains("Tollgate:RateLimits:Surfaces:Dubbing:1 names no rule 'ghost'", thrown.Message);
    }

    [Fact]
    public void RuleSet_Create_RejectsInvalidRulesAndDuplicates()
    {
        var thrown = Assert.Throws<ArgumentException>(() => RuleSet.Create(
            new RateRule("a", 0, TimeSpan.FromMinutes(1), RuleScope.All),
            new RateRule("A", 1, TimeSpan.FromMinutes(1), RuleScope.All)));
        Assert.Contains("Tollgate:RateLimits:Rules:a:Limit must be a positive integer (was 0).", thrown.Message);
        Assert.Contains("Tollgate:RateLimits:Rules:A: a rule set may hold a rule name only once.", thrown.Message);
    }

    [Theory]
    [InlineData(RuleScope.All, OperationClass.Safe, true)]
    [InlineData(RuleScope.All, OperationClass.Unsafe, true)]
    [InlineData(RuleScope.Safe, OperationClass.Safe, true)]
    [InlineData(RuleScope.Safe, OperationClass.Unsafe, false)]
    [InlineData(RuleScope.Unsafe, OperationClass.Safe, false)]
    [InlineData(RuleScope.Unsafe, OperationClass.Unsafe, true)]
    public void RateRule_AppliesToOperation(RuleScope scope, OperationClass operation, bool expected) =>
        Assert.Equal(expected, new RateRule("r", 1, TimeSpan.FromSeconds(1), scope).AppliesToOperation(operation));

    [Fact]
    public void WindowDecision_Default_IsAdmittedWithoutRule()
    {
        WindowDecision decision = default;
        Assert.True(decision.Admitted);
        Assert.False(decision.HasRule);
        Assert.Equal(0, decision.Limit);
        Assert.Equal(0, decision.RetryAfterSeconds);
        Assert.Equal("Admitted (no rule)", decision.ToString());
    }

    [Fact]
    public void WindowDecision_Rejection_NeedsItsRules_AndRetriesAfterAtLeastOneSecond()
    {
        var rule = new RateRule("r", 1, TimeSpan.FromSeconds(1), RuleScope.All);
        Assert.Throws<ArgumentException>(() => new WindowDecision(false, rule, 0, 10, null, 1));
        var rejected = new WindowDecision(false, rule, -4, 10, rule, 0);
        Assert.Equal(1, rejected.RetryAfterSeconds);
        Assert.Equal(0, rejected.Remaining);
        Assert.Equal("Rejected by r, retry after 1 s; r: 0/1 left until 10", rejected.ToString());
    }
}
