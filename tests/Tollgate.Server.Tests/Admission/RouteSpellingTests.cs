using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Infrastructure;
using Tollgate.Server.Admission;

namespace Tollgate.Admission;

/// <summary>
/// Admission is decided by the endpoint a request reaches, not by how its path is spelled: every public route, in
/// upper case, mixed case and with a trailing slash, is authenticated and limited exactly like its canonical form.
/// </summary>
public sealed class RouteSpellingTests : IAsyncLifetime
{
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Every endpoint behind admission, as (method, path with its parameters filled in).</summary>
    private List<(string Method, string Path, AdmissionMetadata Metadata)> PublicRoutes()
    {
        var routes = new List<(string, string, AdmissionMetadata)>();
        foreach (var endpoint in _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<AdmissionMetadata>() is not { } metadata)
            {
                continue;
            }
            var path = string.Join("/", endpoint.RoutePattern.PathSegments.Select(segment =>
                string.Concat(segment.Parts.Select(part => part switch
                {
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                    _ => "x_1",
                }))));
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)
            {
                routes.Add((method, "/" + path, metadata));
            }
        }
        return routes;
    }

    private static IEnumerable<string> Spellings(string path)
    {
        yield return path.ToUpperInvariant();
        yield return string.Concat(path.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
        yield return path + "/";
        yield return path.ToUpperInvariant() + "/";
    }

    [Fact]
    public async Task EveryPublicRoute_InAnySpelling_AsksForItsSurfacesCredential()
    {
        var routes = PublicRoutes();
        Assert.True(routes.Count >= 11 + 7 + 2 + 10, $"only {routes.Count} routes behind admission");
        using var client = _server.CreateClient();
        var failures = new List<string>();
        foreach (var (method, canonical, metadata) in routes)
        {
            foreach (var path in Spellings(canonical).Prepend(canonical))
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var expected = metadata.Model?.ForbiddenForBadKeys == true ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized;
                if (response.StatusCode != expected || !body.Contains("\"missing_api_key\"", StringComparison.Ordinal))
                {
                    failures.Add($"{method} {path} → {(int)response.StatusCode} {body}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task ABatchModel_InAnySpelling_SharesTheConcurrencyPoolOfItsCanonicalPath()
    {
        const string model = "velma-2-stt-batch";
        var key = await _server.CreateKeyAsync(model, concurrency: 1);
        using var client = _server.CreateClient(key.Secret);
        var gate = new GatedUpload();
        var held = client.SendAsync(gate.Request(model, TestAudio.SpeechLikeWav()));
        await gate.BodyStarted;
        foreach (var path in Spellings("/api/" + model))
        {
            using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
            using var response = await client.PostAsync(path.TrimStart('/'), content);
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal("concurrency_limit", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["code"]!.GetValue<string>());
        }
        gate.Open();
        using var done = await held;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        using var again = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
        using var upper = await client.PostAsync("API/VELMA-2-STT-BATCH/", again);
        Assert.Equal(HttpStatusCode.OK, upper.StatusCode);
        Assert.Equal(2, (await Usage.ForModelAsync(_server, key.OrgId, model))["charges"]!.GetValue<long>());
    }

    [Fact]
    public async Task TheDubbingSurface_InAnySpelling_CountsInTheSameRateWindows()
    {
        var key = await _server.CreateKeyAsync("velma-2-stt-batch");
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add("Authorization", "Api-Key " + key.Secret);
        var remaining = new List<long>();
        foreach (var path in Spellings("/v1/me").Prepend("/v1/me"))
        {
            using var response = await client.GetAsync(path.TrimStart('/'));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            remaining.Add(long.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single()));
        }
        // One window, counted once per request whatever the spelling (the 'safe' rule: 10,000 a minute).
        Assert.Equal(Enumerable.Range(0, remaining.Count).Select(i => remaining[0] - i), remaining);
    }

    [Fact]
    public async Task AStreamingChannel_InAnySpelling_RefusesAWebSocketWithoutAKey()
    {
        foreach (var path in Spellings("/api/velma-2-stt-streaming"))
        {
            await using var session = await WebSocketSession.ConnectAsync(_server.WebSocketUri(path + "?audio_format=s16le&sample_rate=16000&num_channels=1"));
            var received = await session.ReadUntilClosedAsync();
            Assert.Equal(4001, received.CloseCode);
            Assert.Equal("missing_api_key", received.Messages.Single()["code"]!.GetValue<string>());
        }
    }
}
