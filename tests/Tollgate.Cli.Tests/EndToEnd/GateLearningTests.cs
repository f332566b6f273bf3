using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Behavior;
using Tollgate.Client.Dubbing;
using Tollgate.Client.Models;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary>A server process with the default rate-limit fields (<c>X-RateLimit-*</c>: no concurrency policy in any answer).</summary>
public sealed class DefaultHeadersServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// The gate learns a key's concurrency from the account answer (<c>GET /v1/me</c>'s <c>models</c>) when the answers
/// carry only <c>X-RateLimit-*</c>, Tollgate's default: sized before the first upload, so a backlog spends no 429.
/// </summary>
public sealed class GateLearningTests(DefaultHeadersServerFixture fixture) : IClassFixture<DefaultHeadersServerFixture>
{
    private const string Model = "velma-2-stt-batch";

    [Fact]
    public async Task AccountAnswer_ListsTheKeysModelsWithTheirLimits()
    {
        var key = await CreateKeyAsync(new() { [Model] = new(3, 10), ["velma-2-batch"] = new(7, 2.5) });
        var options = new TollgateClientOptions { BaseAddress = fixture.Server.BaseAddress, ApiKey = key.Key };
        using var dubbing = new TollgateDubbingClient(options);

        var account = await dubbing.GetAccountAsync();

        Assert.NotNull(account.Models);
        Assert.Equal(new KeyModelLimits(3, 10), account.Models[Model]);
        Assert.Equal(new KeyModelLimits(7, 2.5), account.Models["velma-2-batch"]);
    }

    [Fact]
    public async Task Backlog_UnderXRateLimitHeaders_TheGateTakesTheKeysConcurrencyFromTheAccount_AndMeetsNo429()
    {
        var key = await CreateKeyAsync(new() { [Model] = new(3, 10) });
        var options = new TollgateClientOptions { BaseAddress = fixture.Server.BaseAddress, ApiKey = key.Key, Retry = TollgateRetryOptions.None };
        using var client = new TollgateModelsClient(options);
        var audio = TestAudio.Wav(0.25);
        var peak = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 60), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var answer = await client.PostBatchAsync(Model, new MemoryStream(audio), $"f{i}.wav", cancellationToken: ct);
            InterlockedMax(ref peak, client.Behavior!.InFlight(Model));
        });

        var behavior = client.Behavior!;
        Assert.Equal((3, ConcurrencyLimitSource.Learned), behavior.ConcurrencyOf(Model));
        Assert.Equal(0, behavior.Statistics.RateLimited);
        Assert.Equal(61, behavior.Statistics.Requests);
        Assert.InRange(peak, 1, 3);
    }

    [Fact]
    public async Task WithoutTheAccountRead_TheGateFallsBackToTheDefault()
    {
        var key = await CreateKeyAsync(new() { [Model] = new(3, 10) });
        var options = new TollgateClientOptions { BaseAddress = fixture.Server.BaseAddress, ApiKey = key.Key, LearnConcurrencyFromAccount = false };
        using var client = new TollgateModelsClient(options);

        using var answer = await client.PostBatchAsync(Model, new MemoryStream(TestAudio.Wav(0.25)), "a.wav");

        Assert.Equal((2, ConcurrencyLimitSource.Default), client.Behavior!.ConcurrencyOf(Model));
        Assert.Equal(1, client.Behavior.Statistics.Requests);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private async Task<CreatedApiKey> CreateKeyAsync(Dictionary<string, ModelLimits> models)
    {
        using var admin = new TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("gate learning");
        var user = await admin.CreateUserAsync(org.Id, "gail");
        return await admin.CreateKeyAsync(org.Id, user.Id, models, name: "gate");
    }
}
