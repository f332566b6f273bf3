using System.Net;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Models;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary><see cref="TollgateModelsClient"/> (with keys made by <see cref="TollgateAdminClient"/>) against the real server process.</summary>
[Collection(ServerProcessCollection.Name)]
public sealed class ModelsClientTests(ServerProcessFixture fixture)
{
    private const string Model = "velma-2-stt-batch";

    [Fact]
    public async Task PostBatch_EntitledKey_ReturnsTheModelsJson()
    {
        var secret = await CreateKeyAsync(Model);
        using var client = new TollgateModelsClient(fixture.Server.BaseAddress, secret);
        using var file = new MemoryStream(TestAudio.Wav(1.5));

        using var answer = await client.PostBatchAsync(Model, file, "tone.wav");

        Assert.Equal(System.Text.Json.JsonValueKind.Object, answer.RootElement.ValueKind);
    }

    [Fact]
    public async Task PostBatch_ModelNotEntitled_Is403WithCode()
    {
        var secret = await CreateKeyAsync("velma-2-emotion-batch");
        using var client = new TollgateModelsClient(fixture.Server.BaseAddress, secret);
        using var file = new MemoryStream(TestAudio.Wav(1));

        var ex = await Assert.ThrowsAsync<TollgateApiException>(() => client.PostBatchAsync(Model, file, "tone.wav"));

        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
        Assert.Equal("model_not_permitted", ex.Code);
    }

    [Fact]
    public async Task PostBatch_RevokedKey_Is401()
    {
        using var admin = new TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("models client");
        var user = await admin.CreateUserAsync(org.Id, "carol");
        var key = await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, ModelLimits> { [Model] = new(2, 1) });
        await admin.RevokeKeyAsync(key.Id);
        using var client = new TollgateModelsClient(fixture.Server.BaseAddress, key.Key);
        using var file = new MemoryStream(TestAudio.Wav(1));

        var ex = await Assert.ThrowsAsync<TollgateAuthenticationException>(() => client.PostBatchAsync(Model, file, "tone.wav"));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal("revoked_api_key", ex.Code);
        Assert.DoesNotContain(key.Key, key.ToString());
    }

    private async Task<string> CreateKeyAsync(string model)
    {
        using var admin = new TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("models client");
        var user = await admin.CreateUserAsync(org.Id, "carol");
        var key = await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, ModelLimits> { [model] = new(2, 1) }, name: "sdk");
        return key.Key;
    }
}
