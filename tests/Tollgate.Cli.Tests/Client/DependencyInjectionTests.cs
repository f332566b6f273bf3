using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tollgate.Client.Behavior;
using Tollgate.Client.Dubbing;
using Tollgate.Client.Models;
using Tollgate.Client.Platform;
using Tollgate.Infrastructure;

namespace Tollgate.Client;

/// <summary><c>services.AddTollgateClient(…)</c>: options bound from configuration and validated, clients over IHttpClientFactory.</summary>
[Collection(ServerProcessCollection.Name)]
public sealed class DependencyInjectionTests(ServerProcessFixture fixture)
{
    [Fact]
    public async Task Configuration_BindsTheOptions_AndTheModelsClientCallsTheServer()
    {
        using var admin = new Admin.TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("di");
        var user = await admin.CreateUserAsync(org.Id, "gus");
        var key = await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, Admin.ModelLimits> { ["velma-2-stt-batch"] = new(3, 1) });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tollgate:BaseAddress"] = fixture.Server.BaseAddress.ToString(),
            ["Tollgate:ApiKey"] = key.Key,
            ["Tollgate:AccountId"] = org.Id,
            ["Tollgate:AdminToken"] = ServerProcess.AdminToken,
            ["Tollgate:MaxConcurrency"] = "3",
            ["Tollgate:Retry:MaxRetryAttempts"] = "5",
            ["Tollgate:PollJitter"] = "00:00:00.500",
        }).Build();
        var services = new ServiceCollection();
        services.AddTollgateClient(configuration.GetSection("Tollgate"));
        await using var provider = services.BuildServiceProvider(validateScopes: true);

        var options = provider.GetRequiredService<IOptions<TollgateClientOptions>>().Value;
        Assert.Equal(3, options.MaxConcurrency);
        Assert.Equal(5, options.Retry.MaxRetryAttempts);
        Assert.Equal(3, TollgateRetryOptions.Default.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.PollJitter);
        var models = provider.GetRequiredService<TollgateModelsClient>();
        using var answer = await models.PostBatchAsync("velma-2-stt-batch", new MemoryStream(TestAudio.Wav(0.5)), "a.wav");
        var behavior = provider.GetRequiredService<TollgateClientBehavior>();
        Assert.Same(behavior, models.Behavior);
        Assert.Equal(1, behavior.Statistics.Requests);
        Assert.Equal((3, ConcurrencyLimitSource.Configured), behavior.ConcurrencyOf("velma-2-stt-batch"));
        Assert.NotNull(provider.GetRequiredService<TollgatePlatformClient>());
        Assert.NotNull(provider.GetRequiredService<TollgateDubbingClient>());
        Assert.NotEmpty((await provider.GetRequiredService<Admin.TollgateAdminClient>().ListOrganizationsAsync()).Items);
    }

    [Fact]
    public void InvalidOptions_EveryProblemNamedAtOnce()
    {
        var services = new ServiceCollection();
        services.AddTollgateClient(o =>
        {
            o.BaseAddress = new Uri("ftp://example.com");
            o.MaxConcurrency = 0;
            o.PollInterval = TimeSpan.FromSeconds(1);
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TollgateClientOptions>>().Value);
        Assert.Contains(ex.Failures, f => f.Contains("BaseAddress"));
        Assert.Contains(ex.Failures, f => f.Contains("MaxConcurrency"));
        Assert.Contains(ex.Failures, f => f.Contains("PollInterval"));
    }

    [Fact]
    public void Direct_MissingKey_IsRefusedAtConstruction()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TollgatePlatformClient(new TollgateClientOptions { BaseAddress = new Uri("http://127.0.0.1:1/"), ApiKey = "k" }));
        Assert.Contains("AccountId", ex.Message);
    }
}
