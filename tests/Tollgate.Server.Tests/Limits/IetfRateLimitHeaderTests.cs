using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Infrastructure;
using Tollgate.Server.Hosting;

namespace Tollgate.Limits;

/// <summary>
/// <c>Tollgate:RateLimits:Headers</c>: <c>XRateLimit</c> (default), <c>Ietf</c> (draft-ietf-httpapi-ratelimit-headers-11's
/// <c>RateLimit-Policy</c> and <c>RateLimit</c> for the most restrictive rule, plus the Models API's concurrency as a
/// <c>concurrent-requests</c> policy) or <c>Both</c>; on a real server with rules on the Models surface, at a fixed time
/// (12:00:45, so a minute window has 15 s to go).
/// </summary>
public sealed class IetfRateLimitHeaderTests
{
    private const string Batch = "velma-2-batch";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 4, 12, 0, 45, TimeSpan.Zero));

    private static Dictionary<string, string?> Settings(string? headers) => new()
    {
        ["Tollgate:RateLimits:Rules:global:Limit"] = "10",
        ["Tollgate:RateLimits:Rules:safe:Limit"] = "3",
        ["Tollgate:RateLimits:Rules:unsafe-minute:Limit"] = "5",
        ["Tollgate:RateLimits:Rules:unsafe-hour:Limit"] = "8",
        ["Tollgate:RateLimits:Surfaces:Models"] = "global,safe,unsafe-minute,unsafe-hour",
        ["Tollgate:RateLimits:Headers"] = headers,
    };

    private static string? Field(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    [Fact]
    public async Task Ietf_GivesThePolicyAndTheCurrentState_OfTheMostRestrictiveRule_AndTheConcurrency()
    {
        await using var server = await TollgateServer.StartAsync(Settings("Ietf"), s => s.AddSingleton<TimeProvider>(_time));
        var key = await server.CreateKeyAsync(Batch, concurrency: 5);
        using var client = server.CreateClient(key.Secret);

        using (var get = await client.GetAsync($"api/{Batch}/list-presets"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("\"safe\";q=3;w=60", Field(get, "RateLimit-Policy"));
            Assert.Equal("\"safe\";r=2;t=15", Field(get, "RateLimit"));
            Assert.Null(Field(get, "X-RateLimit-Limit"));
        }
        _time.Advance(TimeSpan.FromSeconds(3));
        using (var post = await client.PostAsync($"api/{Batch}", new MultipartFormDataContent()))
        {
            // Admitted (a lease taken), then refused for its missing file: the admission's fields stay on the answer.
            Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
            Assert.Equal("\"unsafe-minute\";q=5;w=60, \"concurrency\";q=5;qu=\"concurrent-requests\"", Field(post, "RateLimit-Policy"));
            Assert.Equal("\"unsafe-minute\";r=4;t=12, \"concurrency\";r=4", Field(post, "RateLimit"));
        }
        for (var i = 0; i < 2; i++)
        {
            using var ok = await client.GetAsync($"api/{Batch}/list-presets");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var get = await client.GetAsync($"api/{Batch}/list-presets"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, get.StatusCode);
            Assert.Equal("\"safe\";r=0;t=12", Field(get, "RateLimit"));
            Assert.Equal(TimeSpan.FromSeconds(12), get.Headers.RetryAfter!.Delta);
        }
    }

    [Fact]
    public async Task Both_GivesBothSets_InAgreement_AndTheDefaultIsXRateLimitAlone()
    {
        await using (var server = await TollgateServer.StartAsync(Settings("both"), s => s.AddSingleton<TimeProvider>(_time)))
        {
            var key = await server.CreateKeyAsync(Batch);
            using var client = server.CreateClient(key.Secret);
            using var get = await client.GetAsync($"api/{Batch}/list-presets");
            Assert.Equal("3", Field(get, "X-RateLimit-Limit"));
            Assert.Equal("2", Field(get, "X-RateLimit-Remaining"));
            Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds() + 15, long.Parse(Field(get, "X-RateLimit-Reset")!));
            Assert.Equal("\"safe\";q=3;w=60", Field(get, "RateLimit-Policy"));
            Assert.Equal("\"safe\";r=2;t=15", Field(get, "RateLimit"));
        }
        await using (var server = await TollgateServer.StartAsync(Settings(null), s => s.AddSingleton<TimeProvider>(_time)))
        {
            var key = await server.CreateKeyAsync(Batch);
            using var client = server.CreateClient(key.Secret);
            using var post = await client.PostAsync($"api/{Batch}", new MultipartFormDataContent());
            Assert.Equal("5", Field(post, "X-RateLimit-Limit"));
            Assert.Null(Field(post, "RateLimit-Policy"));
            Assert.Null(Field(post, "RateLimit"));
        }
    }

    [Fact]
    public async Task AnUnknownStyle_StopsTheStart_NamingTheSettingAndValue()
    {
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => TollgateServer.StartAsync(Settings("Draft")));
        Assert.Contains("Tollgate:RateLimits:Headers must be XRateLimit, Ietf or Both (was 'Draft')", error.Message);
    }
}
