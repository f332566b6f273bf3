using Tollgate.Infrastructure;

namespace Tollgate.Hosting;

/// <summary>
/// Every configuration section is validated at start-up before anything reads one, and the server refuses to start
/// with every bad setting named at once — not just the first section that happens to be read.
/// </summary>
public sealed class StartupValidationTests
{
    [Fact]
    public async Task BadSettingsInEverySection_AreReportedTogether_EachByItsPath()
    {
        var bad = new Dictionary<string, string?>
        {
            ["Tollgate:Bootstrap:DemoConcurrency"] = "0",
            ["Tollgate:Admin:Token"] = "short",
            ["Tollgate:Dubbing:MonthlyCredits"] = "-1",
            ["Tollgate:Jobs:Workers"] = "0",
            ["Tollgate:Quotas:OrganizationMonthlyAudioHours"] = "-2",
            ["Tollgate:Leases:Ttl"] = "0s",
            ["Tollgate:RateLimits:Rules:global:Limit"] = "0",
            ["Tollgate:Redis:FailureMode"] = "Sideways",
        };
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TollgateServer.StartAsync(bad));
        var messages = string.Join("\n", Flatten(error).Select(e => e.Message));
        foreach (var path in new[]
        {
            "Tollgate:Bootstrap:DemoConcurrency", "Tollgate:Admin:Token", "Tollgate:Dubbing:MonthlyCredits", "Tollgate:Jobs:Workers",
            "Tollgate:Quotas:OrganizationMonthlyAudioHours", "Tollgate:Leases:Ttl", "Tollgate:RateLimits:Rules:global",
            "Tollgate:Redis:FailureMode",
        })
        {
            Assert.Contains(path, messages);
        }
    }

    [Fact]
    public async Task ARedisConnectionStringThatIsNotOne_StopsTheStart_NamingTheSetting_NotItsSecret()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = "127.0.0.1:6379,password=hunter2-secret,frobnicate=yes",
        }));
        var messages = string.Join("\n", Flatten(error).Select(e => e.Message));
        Assert.Contains("ConnectionStrings:Redis", messages);
        Assert.DoesNotContain("hunter2-secret", messages);
    }

    private static IEnumerable<Exception> Flatten(Exception error) => error switch
    {
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(Flatten),
        { InnerException: { } inner } => [error, .. Flatten(inner)],
        _ => [error],
    };
}
