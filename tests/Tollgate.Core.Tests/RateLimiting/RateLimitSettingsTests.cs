using System.ComponentModel;

namespace Tollgate.RateLimiting;

public sealed class RateLimitSettingsTests
{
    [Fact]
    public void ToOptions_Untouched_GivesTheDesignDefaults()
    {
        var options = new RateLimitSettings().ToOptions();

        Assert.Equal(4, options.Rules.Count);
        Assert.Equal(new RateRule("global", 15_000, TimeSpan.FromMinutes(1), RuleScope.All), options.Rules["global"]);
        Assert.Equal(new RateRule("safe", 10_000, TimeSpan.FromMinutes(1), RuleScope.Safe), options.Rules["safe"]);
        Assert.Equal(new RateRule("unsafe-minute", 500, TimeSpan.FromMinutes(1), RuleScope.Unsafe), options.Rules["unsafe-minute"]);
        Assert.Equal(new RateRule("unsafe-hour", 20_000, TimeSpan.FromHours(1), RuleScope.Unsafe), options.Rules["unsafe-hour"]);
        Assert.Equal(["global", "safe", "unsafe-minute", "unsafe-hour"], options.Surfaces["Dubbing"]);
        Assert.Empty(options.Surfaces["Models"]);
        Assert.Empty(options.Surfaces["Platform"]);
        Assert.Empty(RateLimitOptions.Default.Validate());
    }

    [Fact]
    public void ToOptions_ChangedLimitAddedRuleAndSurfaces_AreTakenWithoutCode()
    {
        var settings = new RateLimitSettings();
        settings.Rules["Unsafe-Minute"]!.Limit = " 300 "; // keys ignore case, as configuration does
        settings.Rules["per-second"] = new RateRuleSettings { Limit = "5", Window = "1s" };
        settings.Surfaces["dubbing"] = ["global", "safe", "unsafe-minute", "unsafe-hour", "PER-SECOND"];
        settings.Surfaces["Models"] = RuleNameList.Parse("per-second");
        settings.Surfaces["Platform"] = [];

        var options = settings.ToOptions();

        Assert.Equal(300, options.Rules["unsafe-minute"].Limit);
        Assert.Equal(new RateRule("per-second", 5, TimeSpan.FromSeconds(1), RuleScope.All), options.Rules["per-second"]);
        Assert.Equal(["global", "safe", "unsafe-minute", "unsafe-hour", "per-second"], options.Surfaces["Dubbing"]);
        Assert.Equal(["per-second"], options.Surfaces["Models"]);
        Assert.Empty(options.Surfaces["Platform"]);
    }

    [Fact]
    public void ToOptions_SurfaceWithEmptyList_CarriesNoRules()
    {
        var settings = new RateLimitSettings();
        settings.Surfaces["Dubbing"] = RuleNameList.Parse("");
        var policy = new RateLimitPolicy(settings.ToOptions());
        Assert.False(policy.IsLimited("Dubbing"));
    }

    [Theory]
    [InlineData("1s", 1)]
    [InlineData("90s", 90)]
    [InlineData("1m", 60)]
    [InlineData("1H", 3_600)]
    [InlineData("1d", 86_400)]
    [InlineData("00:01:00", 60)]
    [InlineData(" 01:00:00 ", 3_600)]
    [InlineData("1.00:00:00", 86_400)]
    public void Window_AcceptedForms(string text, int seconds)
    {
        var settings = new RateLimitSettings();
        settings.Rules["r"] = new RateRuleSettings { Limit = "1", Window = text, AppliesTo = "unsafe" };
        var rule = settings.ToOptions().Rules["r"];
        Assert.Equal(TimeSpan.FromSeconds(seconds), rule.Window);
        Assert.Equal(RuleScope.Unsafe, rule.AppliesTo);
    }

    [Fact]
    public void Validate_TheDocumentedExample()
    {
        var settings = new RateLimitSettings();
        settings.Rules["unsafe-minute"]!.Limit = "0";
        Assert.Equal(["Tollgate:RateLimits:Rules:unsafe-minute:Limit must be a positive integer (was 0)."], settings.Validate());
    }

    [Fact]
    public void Validate_ListsEveryError_ByItsPath()
    {
        var settings = new RateLimitSettings();
        settings.Rules["global"]!.Limit = "abc";
        settings.Rules["safe"]!.Limit = "-3";
        settings.Rules["safe"]!.Window = "500ms";
        settings.Rules["unsafe-minute"]!.Window = "00:00:01.5";
        settings.Rules["unsafe-hour"]!.Window = "2d";
        settings.Rules["unsafe-hour"]!.AppliesTo = "Reads";
        settings.Rules["bare"] = new RateRuleSettings { Limit = "1", Window = "60" };
        settings.Rules["empty"] = new RateRuleSettings();
        settings.Rules["nothing"] = null;
        settings.Rules["bad name!"] = new RateRuleSettings { Limit = "1", Window = "1s" };
        settings.Surfaces["Dubing"] = ["global"];
        settings.Surfaces["Models"] = ["global", "per-second", "GLOBAL"];

        var errors = settings.Validate();

        const string R = "Tollgate:RateLimits:Rules";
        Assert.Equal(
            [
                $"{R}:global:Limit must be a positive integer (was 'abc').",
                $"{R}:safe:Limit must be a positive integer (was -3).",
                $"{R}:safe:Window must be at least 1 second (was 500ms).",
                $"{R}:unsafe-minute:Window must be a whole number of seconds (was 00:00:01.5).",
                $"{R}:unsafe-hour:Window must be at most 1 day (was 2d).",
                $"{R}:unsafe-hour:AppliesTo must be one of All, Safe (GET, HEAD) or Unsafe (POST, PATCH, PUT, DELETE) (was 'Reads').",
                $"{R}:bare:Window must be a duration such as 1s, 90s, 1m, 1h, 1d or 00:01:00 (was '60').",
                $"{R}:empty:Limit is required: a positive integer, the requests admitted per window.",
                $"{R}:empty:Window is required: a duration such as 1s, 90s, 1m, 1h, 1d or 00:01:00.",
                $"{R}:nothing has no settings: give at least Limit and Window.",
                $"{R}:bad name!: 'bad name!' is not a valid rule name: use 1 to 64 letters, digits, '-', '_' or '.'.",
                "Tollgate:RateLimits:Surfaces:Dubing: there is no surface 'Dubing'; the surfaces are Models, Platform, Dubbing.",
                "Tollgate:RateLimits:Surfaces:Models:1 names no rule 'per-second'; the rules are bad name!, bare, empty, global, nothing, safe, unsafe-hour, unsafe-minute.",
                "Tollgate:RateLimits:Surfaces:Models:2 lists rule 'global' more than once.",
            ],
            errors);
        var thrown = Assert.Throws<InvalidOperationException>(() => settings.ToOptions());
        Assert.StartsWith("Invalid request-rate configuration (14 errors):", thrown.Message);
        Assert.All(errors, e => Assert.Contains(e, thrown.Message));
        Assert.False(settings.TryBuild(out var options, out var same));
        Assert.Null(options);
        Assert.Equal(errors, same);
    }

    [Fact]
    public void Validate_DuplicateRuleNamesIgnoringCase_AreReported()
    {
        var settings = new RateLimitSettings
        {
            Rules = new Dictionary<string, RateRuleSettings?>(StringComparer.Ordinal)
            {
                ["global"] = new() { Limit = "1", Window = "1m" },
                ["Global"] = new() { Limit = "2", Window = "1m" },
            },
            Surfaces = new Dictionary<string, RuleNameList?>(StringComparer.Ordinal) { ["Dubbing"] = ["global"], ["dubbing"] = [] },
        };

        var errors = settings.Validate();

        Assert.Contains("Tollgate:RateLimits:Rules: rule names must be unique ignoring case; 'global' and 'Global' collide.", errors);
        Assert.Contains("Tollgate:RateLimits:Surfaces: surface names must be unique ignoring case; 'Dubbing' and 'dubbing' collide.", errors);
    }

    [Fact]
    public void Validate_DefaultSurfaceNamingARemovedRule_IsReported()
    {
        // Replacing the rule dictionary in code drops the defaults the Dubbing surface refers to.
        var settings = new RateLimitSettings { Rules = new() { ["only"] = new() { Limit = "1", Window = "1s" } } };
        Assert.Equal(
            ["Tollgate:RateLimits:Surfaces:Dubbing is not set, and the rules it carries by default (global, safe, unsafe-minute, unsafe-hour) are not defined: list its rules, or [] for none."],
            settings.Validate());
        settings.Surfaces["Dubbing"] = ["only"];
        Assert.Empty(settings.Validate());
    }

    [Fact]
    public void RuleNameList_ConvertsFromACommaSeparatedValue()
    {
        var converter = TypeDescriptor.GetConverter(typeof(RuleNameList));
        Assert.True(converter.CanConvertFrom(typeof(string)));
        Assert.Equal(["global", "per-second"], (RuleNameList)converter.ConvertFromInvariantString(" global , per-second,, ")!);
        Assert.Empty((RuleNameList)converter.ConvertFromInvariantString("")!);
    }
}
