using Tollgate.Infrastructure;

namespace Tollgate.Hosting;

/// <summary>The deadline, idle, shutdown and throttle settings: nonsense stops the server at start-up, every setting named at once.</summary>
public sealed class HardeningSettingsTests
{
    [Fact]
    public async Task NonsenseValues_StopTheServerAtStartup_NamingEverySetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:Uploads:DeadlineFloor"] = "soon",
            ["Tollgate:Uploads:MinimumBytesPerSecond"] = "10",
            ["Tollgate:Streams:IdleTimeout"] = "0s",
            ["Tollgate:Shutdown:Timeout"] = "2h",
            ["Tollgate:AuthThrottle:Limit"] = "0",
            ["Tollgate:AuthThrottle:Window"] = "1500ms",
        }));
        var messages = error is AggregateException all ? string.Join("\n", all.InnerExceptions.Select(e => e.Message)) : error.Message;
        foreach (var setting in new[]
        {
            "Tollgate:Uploads:DeadlineFloor", "Tollgate:Uploads:MinimumBytesPerSecond", "Tollgate:Streams:IdleTimeout",
            "Tollgate:Shutdown:Timeout", "Tollgate:AuthThrottle:Limit", "Tollgate:AuthThrottle:Window",
        })
        {
            Assert.Contains(setting, messages);
        }
    }
}
