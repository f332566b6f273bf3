using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Infrastructure;

namespace Tollgate.Dubbing;

/// <summary>
/// Dubs created from a link: fetched only from configured hosts, never from loopback/private addresses unless
/// explicitly allowed. The "remote" host is a second real Kestrel on 127.0.0.1.
/// </summary>
public sealed class DubSourceLinkTests : IAsyncLifetime
{
    private WebApplication _files = null!;
    private Uri _filesAddress = null!;
    private readonly byte[] _audio = TestAudio.SpeechLikeWav();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0"]);
        _files = builder.Build();
        _files.MapGet("/talk.wav", () => Results.Bytes(_audio, "audio/wav"));
        _files.MapGet("/hop", () => Results.Redirect("http://169.254.169.254/latest/meta-data"));
        await _files.StartAsync();
        _filesAddress = new Uri(_files.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync() => await _files.DisposeAsync();

    private async Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode Body, TollgateServer Server)> CreateFromLinkAsync(
        Dictionary<string, string?> settings, string path)
    {
        var server = await TollgateServer.StartAsync(settings);
        var key = await server.CreateKeyAsync("velma-2-batch");
        using var client = new DubbingClient(server, key.Secret);
        var (status, body) = await client.PostJsonAsync("v1/me/dubs", new { sourceUrl = new Uri(_filesAddress, path).ToString(), targetLanguage = "fr" });
        return (status, body, server);
    }

    [Fact]
    public async Task ALinkToAHostNotAllowed_IsRefused()
    {
        var (status, body, server) = await CreateFromLinkAsync([], "/talk.wav");
        await using var _ = server;
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("source_host_not_allowed", body["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnAllowedHostThatIsLoopback_IsRefused_UnlessPrivateAddressesAreAllowed()
    {
        var (status, body, server) = await CreateFromLinkAsync(new() { ["Tollgate:Dubbing:AllowedSourceHosts:0"] = "127.0.0.1" }, "/talk.wav");
        await using (server)
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Equal("source_address_not_allowed", body["code"]!.GetValue<string>());
        }

        var (allowed, dub, permissive) = await CreateFromLinkAsync(new()
        {
            ["Tollgate:Dubbing:AllowedSourceHosts:0"] = "127.0.0.1",
            ["Tollgate:Dubbing:AllowPrivateSourceAddresses"] = "true",
        }, "/talk.wav");
        await using (permissive)
        {
            Assert.True(allowed == HttpStatusCode.Created, dub.ToJsonString());
            Assert.Equal("talk.wav", dub["name"]!.GetValue<string>());
            var input = Directory.GetFiles(Path.Combine(permissive.DataDirectory, "dubbing"), "*.input").Single();
            Assert.Equal(_audio, await File.ReadAllBytesAsync(input));
        }
    }

    [Fact]
    public async Task ARedirect_IsCheckedAgain_AgainstTheAllowedHosts()
    {
        var (status, body, server) = await CreateFromLinkAsync(new()
        {
            ["Tollgate:Dubbing:AllowedSourceHosts:0"] = "127.0.0.1",
            ["Tollgate:Dubbing:AllowPrivateSourceAddresses"] = "true",
        }, "/hop");
        await using var _ = server;
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("source_host_not_allowed", body["code"]!.GetValue<string>());
        Assert.Contains("169.254.169.254", body["detail"]!.GetValue<string>());
    }
}
