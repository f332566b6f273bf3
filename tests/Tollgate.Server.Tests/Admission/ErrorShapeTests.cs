using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tollgate.Identity;
using Tollgate.Infrastructure;
using Tollgate.Metering;

namespace Tollgate.Admission;

/// <summary>
/// Answers given without an endpoint's help are in the <c>{"detail","code"}</c> shape too, and none of them reads a key,
/// counts a window or takes a lease. A store that fails at admission answers 503 and is asked again next time.
/// </summary>
public sealed class ErrorShapeTests
{
    private const string Model = "velma-2-stt-batch";

    private static async Task<JsonObject> ErrorBodyAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(code, body["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(body["detail"]!.GetValue<string>()));
        return body;
    }

    [Fact]
    public async Task UnknownPaths_WrongMethods_AndUnsupportedMediaTypes_AnswerInShape_WithoutAdmission()
    {
        await using var server = await TollgateServer.StartAsync();
        var key = await server.CreateKeyAsync(Model, concurrency: 1);
        using var client = server.CreateClient(key.Secret);
        client.DefaultRequestHeaders.Add("Authorization", "Api-Key " + key.Secret);

        foreach (var path in new[] { "nope", "api/nope", "api/velma-2-stt-batch/extra", "v1/nope", "v1/me/dubs/x/explode", "API/NOPE/" })
        {
            using var response = await client.GetAsync(path);
            await ErrorBodyAsync(response, HttpStatusCode.NotFound, "not_found");
            Assert.False(response.Headers.Contains("X-RateLimit-Limit"), path + " was rate-limited");
        }

        // A GET to a batch model takes no lease (the key's limit is 1) and checks no quota before its 405.
        for (var i = 0; i < 20; i++)
        {
            using var wrongMethod = await client.GetAsync("api/" + Model);
            await ErrorBodyAsync(wrongMethod, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
            Assert.Contains("POST", wrongMethod.Content.Headers.Allow);
        }
        using var onV1 = await client.DeleteAsync("v1/me");
        await ErrorBodyAsync(onV1, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.False(onV1.Headers.Contains("X-RateLimit-Limit"));

        using var text = await client.PostAsync("v1/me/voices", new StringContent("name=x", Encoding.UTF8, "text/plain"));
        await ErrorBodyAsync(text, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        Assert.False(text.Headers.Contains("X-RateLimit-Limit"));

        Assert.Equal(0, (await Usage.ForModelAsync(server, key.OrgId, Model))["in_flight"]!.GetValue<int>());
        using var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } };
        using var admitted = await client.PostAsync("api/" + Model, content);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task AnUnhandledException_Answers500InShape_WithNoInternals()
    {
        await using var server = await TollgateServer.StartAsync(services: s =>
            s.Replace(ServiceDescriptor.Singleton<IIdentityStore>(sp => new ThrowingListStore(sp))));
        using var admin = server.CreateAdminClient();
        using var response = await admin.GetAsync("admin/orgs");
        var body = await ErrorBodyAsync(response, HttpStatusCode.InternalServerError, "internal_error");
        var detail = body["detail"]!.GetValue<string>();
        Assert.DoesNotContain("InvalidOperationException", detail);
        Assert.DoesNotContain("secret internals", detail);
        Assert.DoesNotContain("   at ", detail);
        Assert.Contains(server.Logs, line => line.Contains("secret internals", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStoreFailureAtAdmission_Answers503_AndTheNextRequestTriesAgain()
    {
        var failures = new FailureSwitch();
        await using var server = await TollgateServer.StartAsync(services: s =>
        {
            s.Replace(ServiceDescriptor.Singleton<IUsageLedger>(sp => new FlakyLedger(ActivatorUtilities.CreateInstance<Tollgate.Storage.Relational.Metering.SqlUsageLedger>(sp), failures)));
        });
        var key = await server.CreateKeyAsync(Model);
        using var client = server.CreateClient(key.Secret);

        failures.FailNext = true;
        using (var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } })
        using (var refused = await client.PostAsync("api/" + Model, content))
        {
            await ErrorBodyAsync(refused, HttpStatusCode.ServiceUnavailable, "store_unavailable");
            Assert.NotNull(refused.Headers.RetryAfter);
        }
        Assert.Equal(0, (await Usage.ForModelAsync(server, key.OrgId, Model))["in_flight"]!.GetValue<int>());

        using (var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } })
        using (var admitted = await client.PostAsync("api/" + Model, content))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }
        Assert.Equal(1, (await Usage.ForModelAsync(server, key.OrgId, Model))["charges"]!.GetValue<long>());
    }

    private sealed class FailureSwitch
    {
        public volatile bool FailNext;
    }

    /// <summary>The real ledger, whose next monthly read fails once (a busy or unreachable store).</summary>
    private sealed class FlakyLedger(IUsageLedger inner, FailureSwitch failures) : IUsageLedger
    {
        public Task<bool> AppendAsync(UsageCharge charge, CancellationToken ct = default) => inner.AppendAsync(charge, ct);

        public Task<IReadOnlyList<ModelUsageTotal>> MonthTotalsAsync(string orgId, Limits.MonthPeriod period, CancellationToken ct = default)
        {
            if (failures.FailNext)
            {
                failures.FailNext = false;
                throw new IOException("database is locked");
            }
            return inner.MonthTotalsAsync(orgId, period, ct);
        }

        public Task<IReadOnlyList<UsageCharge>> ChargesAsync(string orgId, Limits.MonthPeriod period, CancellationToken ct = default) =>
            inner.ChargesAsync(orgId, period, ct);

        public Task<IReadOnlyList<UsageCharge>> PageAsync(UsageChargeQuery query, CancellationToken ct = default) => inner.PageAsync(query, ct);
    }

    /// <summary>The real identity store, except that listing organizations throws (a bug, as far as the client can tell).</summary>
    private sealed class ThrowingListStore(IServiceProvider services) : IIdentityStore
    {
        private readonly IIdentityStore _inner = ActivatorUtilities.CreateInstance<Tollgate.Storage.Relational.Identity.SqlIdentityStore>(services);

        public Task<IReadOnlyList<Organization>> PageOrganizationsAsync(int limit, string? after, CancellationToken ct = default) =>
            throw new InvalidOperationException("secret internals");

        public Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CancellationToken ct = default) => _inner.ListOrganizationsAsync(ct);
        public Task<IReadOnlyList<User>> PageUsersAsync(string orgId, int limit, string? after, CancellationToken ct = default) => _inner.PageUsersAsync(orgId, limit, after, ct);
        public Task<User?> SetUserDisabledAsync(string userId, DateTimeOffset? at, CancellationToken ct = default) => _inner.SetUserDisabledAsync(userId, at, ct);
        public Task<IReadOnlyList<ApiKeyRecord>> PageKeysAsync(string orgId, int limit, string? after, CancellationToken ct = default) => _inner.PageKeysAsync(orgId, limit, after, ct);
        public Task<bool> RotateKeyAsync(string keyId, ApiKeyRecord replacement, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct = default) =>
            _inner.RotateKeyAsync(keyId, replacement, expiresAt, now, ct);

        public Task<Organization> CreateOrganizationAsync(string name, CancellationToken ct = default) => _inner.CreateOrganizationAsync(name, ct);
        public Task<Organization?> GetOrganizationAsync(string orgId, CancellationToken ct = default) => _inner.GetOrganizationAsync(orgId, ct);
        public Task<User> CreateUserAsync(string orgId, string name, CancellationToken ct = default) => _inner.CreateUserAsync(orgId, name, ct);
        public Task<IReadOnlyList<User>> ListUsersAsync(string orgId, CancellationToken ct = default) => _inner.ListUsersAsync(orgId, ct);
        public Task<User?> GetUserAsync(string userId, CancellationToken ct = default) => _inner.GetUserAsync(userId, ct);
        public Task AddKeyAsync(ApiKeyRecord key, CancellationToken ct = default) => _inner.AddKeyAsync(key, ct);
        public Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string orgId, CancellationToken ct = default) => _inner.ListKeysAsync(orgId, ct);
        public Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken ct = default) => _inner.GetKeyAsync(keyId, ct);
        public Task<ApiKeyRecord?> FindKeyByHashAsync(KeyHash hash, CancellationToken ct = default) => _inner.FindKeyByHashAsync(hash, ct);
        public Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset at, CancellationToken ct = default) => _inner.RevokeKeyAsync(keyId, at, ct);
        public Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken ct = default) => _inner.TouchKeysAsync(lastUsed, ct);
        public Task<string?> GetSettingAsync(string name, CancellationToken ct = default) => _inner.GetSettingAsync(name, ct);
        public Task SetSettingAsync(string name, string value, CancellationToken ct = default) => _inner.SetSettingAsync(name, value, ct);
        public Task<string> AddSettingAsync(string name, string value, CancellationToken ct = default) => _inner.AddSettingAsync(name, value, ct);
    }
}
