using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Platform;

/// <summary>The Platform API's credentials on a real server: both headers, the key's organization, and each flag's model entitlement.</summary>
public sealed class PlatformAuthTests : IAsyncLifetime
{
    private TollgateServer _server = null!;

    public async Task InitializeAsync() => _server = await TollgateServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static JsonObject Clip() => PlatformClient.Body(TestAudio.SpeechLikeWav());

    [Fact]
    public async Task MissingEitherHeader_Is401_OnBothEndpoints()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        foreach (var (account, apiKey) in new[] { (null, key.Secret), (key.OrgId, (string?)null), (null, null), ("", key.Secret) })
        {
            using var client = new PlatformClient(_server, account, apiKey);
            PlatformClient.AssertError(HttpStatusCode.Unauthorized, "missing_api_key", await client.PostJsonAsync(Clip()));
            var (status, body, response) = await client.StatusAsync("18cfd8ae-84f7-4f46-9a33-cecc7db432a9");
            response.Dispose();
            PlatformClient.AssertError(HttpStatusCode.Unauthorized, "missing_api_key", (status, body));
        }
    }

    [Fact]
    public async Task UnknownMalformedRevokedOrOtherOrganizationsKey_Is401()
    {
        var key = await PlatformClient.FullKeyAsync(_server);
        var other = await PlatformClient.FullKeyAsync(_server);
        var revoked = await PlatformClient.FullKeyAsync(_server);
        using (var admin = _server.CreateAdminClient())
        {
            (await admin.DeleteAsync($"admin/keys/{revoked.KeyId}")).EnsureSuccessStatusCode();
        }
        var unknown = key.Secret[..^8] + "AAAAAAAA";
        var cases = new (string Account, string Key, string Code)[]
        {
            (key.OrgId, "not-a-key", "malformed_api_key"),
            (key.OrgId, other.Secret, "account_mismatch"),
            (other.OrgId, key.Secret, "account_mismatch"),
            (revoked.OrgId, revoked.Secret, "revoked_api_key"),
        };
        foreach (var (account, secret, code) in cases)
        {
            using var client = new PlatformClient(_server, account, secret);
            PlatformClient.AssertError(HttpStatusCode.Unauthorized, code, await client.PostJsonAsync(Clip()));
        }
        using var guessed = new PlatformClient(_server, key.OrgId, unknown);
        var answer = await guessed.PostJsonAsync(Clip());
        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Contains(answer.Body["code"]!.GetValue<string>(), new[] { "unknown_api_key", "malformed_api_key" });
    }

    [Fact]
    public async Task AKeyWithoutAFlagsModel_Is403_NamingTheFlag_AndStoresNothing()
    {
        var sttOnly = await _server.CreateKeyAsync(PlatformClient.Transcription);
        using var client = new PlatformClient(_server, sttOnly);
        foreach (var (flag, model) in new[] { ("emotion_annotation", PlatformClient.Emotion), ("demographics", PlatformClient.Accent), ("deepfake_detection", PlatformClient.Deepfake) })
        {
            var answer = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), flags: new JsonObject { [flag] = true }));
            PlatformClient.AssertError(HttpStatusCode.Forbidden, "model_not_permitted", answer);
            Assert.Contains(flag, answer.Body["detail"]!.GetValue<string>());
            Assert.Contains(model, answer.Body["detail"]!.GetValue<string>());
        }
        // Transcription alone is what this key may do.
        var ok = await client.PostJsonAsync(PlatformClient.Body(TestAudio.SpeechLikeWav(), flags: new JsonObject()));
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal(1, ok.Body["api_calls_charged"]!.GetValue<int>());

        var emotionOnly = await _server.CreateKeyAsync(PlatformClient.Emotion);
        using var noTranscription = new PlatformClient(_server, emotionOnly);
        var refused = await noTranscription.PostJsonAsync(Clip());
        PlatformClient.AssertError(HttpStatusCode.Forbidden, "model_not_permitted", refused);
        Assert.Contains(PlatformClient.Transcription, refused.Body["detail"]!.GetValue<string>());
        Assert.Single(Directory.GetDirectories(Path.Combine(_server.DataDirectory, "platform")));
    }
}
