using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using Tollgate.Client.Http;

namespace Tollgate.Client.Admin;

/// <summary>
/// The Admin API (<c>/admin/...</c>): organizations, users, API keys and usage. Every call sends
/// <c>Authorization: Bearer &lt;admin token&gt;</c>; every error answer becomes a <see cref="TollgateApiException"/>.
/// </summary>
/// <remarks>Thread-safe; one instance can serve many concurrent calls.</remarks>
public sealed partial class TollgateAdminClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttpClient;
    private readonly Uri _baseAddress;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly TimeProvider _time;

    /// <summary>
    /// Creates a client over an <see cref="HttpClient"/> you own (for example one from <c>IHttpClientFactory</c>).
    /// </summary>
    /// <param name="httpClient">
    /// Its <see cref="HttpClient.BaseAddress"/> is the server's root (e.g. <c>http://127.0.0.1:5080</c>; a path such as
    /// <c>https://host/gateway</c> is kept). Not disposed by this client; its default headers are not changed.
    /// </param>
    /// <param name="adminToken">The admin token (<c>Tollgate:Admin:Token</c> on the server, or the one it printed on first start).</param>
    /// <param name="timeProvider">The clock for reading <c>Retry-After</c> dates; default <see cref="TimeProvider.System"/>.</param>
    public TollgateAdminClient(HttpClient httpClient, string adminToken, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentException.ThrowIfNullOrWhiteSpace(adminToken);
        _http = httpClient;
        _baseAddress = BaseAddress.Normalize(httpClient.BaseAddress, nameof(httpClient));
        _authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Creates a client with its own <see cref="HttpClient"/> (default 100 s timeout), disposed with this client.</summary>
    /// <param name="baseAddress">The server's root, e.g. <c>http://127.0.0.1:5080</c>.</param>
    /// <param name="adminToken">The admin token.</param>
    public TollgateAdminClient(Uri baseAddress, string adminToken)
        : this(new HttpClient { BaseAddress = BaseAddress.Normalize(baseAddress, nameof(baseAddress)) }, adminToken)
    {
        _ownsHttpClient = true;
    }

    /// <summary>Creates an organization (<c>POST /admin/orgs</c>).</summary>
    /// <param name="name">Its display name: 1 to 200 characters, trimmed by the server.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new organization.</returns>
    /// <exception cref="TollgateApiException">422 <c>validation_failed</c> for a bad name; 401 for a wrong admin token.</exception>
    public Task<Organization> CreateOrganizationAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "admin/orgs", new CreateNameRequest(name), ClientJsonContext.Default.CreateNameRequest,
            ClientJsonContext.Default.Organization, cancellationToken);

    /// <summary>Lists every organization (<c>GET /admin/orgs</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CancellationToken cancellationToken = default) =>
        await GetAsync("admin/orgs", ClientJsonContext.Default.ListOrganization, cancellationToken).ConfigureAwait(false);

    /// <summary>Creates a user in an organization (<c>POST /admin/orgs/{orgId}/users</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="name">The user's display name: 1 to 200 characters.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization; 422 for a bad name.</exception>
    public Task<User> CreateUserAsync(string orgId, string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"admin/orgs/{Segment(orgId)}/users", new CreateNameRequest(name),
            ClientJsonContext.Default.CreateNameRequest, ClientJsonContext.Default.User, cancellationToken);

    /// <summary>Lists an organization's users (<c>GET /admin/orgs/{orgId}/users</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization.</exception>
    public async Task<IReadOnlyList<User>> ListUsersAsync(string orgId, CancellationToken cancellationToken = default) =>
        await GetAsync($"admin/orgs/{Segment(orgId)}/users", ClientJsonContext.Default.ListUser, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Creates an API key for a user (<c>POST /admin/orgs/{orgId}/users/{userId}/keys</c>). Its entitlements are fixed
    /// now: changing them later means a new key. The secret (<see cref="CreatedApiKey.Key"/>) is in this answer only.
    /// </summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="userId">The user, who must belong to <paramref name="orgId"/>.</param>
    /// <param name="models">At least one model name (e.g. <c>velma-2-stt-batch</c>) with its limits; the server validates the names.</param>
    /// <param name="name">An optional label (at most 200 characters); default none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 for an unknown organization or user; 422 for unknown models or bad limits.</exception>
    public Task<CreatedApiKey> CreateKeyAsync(
        string orgId,
        string userId,
        IReadOnlyDictionary<string, ModelLimits> models,
        string? name = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        return SendAsync(HttpMethod.Post, $"admin/orgs/{Segment(orgId)}/users/{Segment(userId)}/keys", new CreateKeyRequest(name, models),
            ClientJsonContext.Default.CreateKeyRequest, ClientJsonContext.Default.CreatedApiKey, cancellationToken);
    }

    /// <summary>Lists an organization's keys, revoked ones included, without secrets (<c>GET /admin/orgs/{orgId}/keys</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization.</exception>
    public async Task<IReadOnlyList<ApiKey>> ListKeysAsync(string orgId, CancellationToken cancellationToken = default) =>
        await GetAsync($"admin/orgs/{Segment(orgId)}/keys", ClientJsonContext.Default.ListApiKey, cancellationToken).ConfigureAwait(false);

    /// <summary>Inspects one key: prefix, owner, entitlements, created, last used, revoked (<c>GET /admin/keys/{keyId}</c>).</summary>
    /// <param name="keyId">The key's id (not its secret).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown key.</exception>
    public Task<ApiKey> GetKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        GetAsync($"admin/keys/{Segment(keyId)}", ClientJsonContext.Default.ApiKey, cancellationToken);

    /// <summary>Revokes a key, immediately (<c>DELETE /admin/keys/{keyId}</c>).</summary>
    /// <param name="keyId">The key's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown key.</exception>
    public async Task RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        using var request = CreateRequest(HttpMethod.Delete, $"admin/keys/{Segment(keyId)}");
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ApiErrors.ThrowIfErrorAsync(response, _time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An organization's usage per model for one month (<c>GET /admin/orgs/{orgId}/usage?month=YYYY-MM</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="month">The month as <c>YYYY-MM</c> (UTC); default <see langword="null"/>: the current month, as the server sees it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">
    /// 404 <c>not_found</c> for an unknown organization; 404 with a <see langword="null"/> code from a server without usage reports.
    /// </exception>
    public Task<UsageReport> GetUsageAsync(string orgId, string? month = null, CancellationToken cancellationToken = default)
    {
        var path = $"admin/orgs/{Segment(orgId)}/usage";
        if (!string.IsNullOrEmpty(month))
        {
            path += "?month=" + Uri.EscapeDataString(month);
        }
        return GetAsync(path, ClientJsonContext.Default.UsageReport, cancellationToken);
    }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it; one passed in is left alone.</summary>
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _http.Dispose();
        }
    }

    private Task<TResponse> GetAsync<TResponse>(string path, JsonTypeInfo<TResponse> responseType, CancellationToken ct) =>
        SendCoreAsync(CreateRequest(HttpMethod.Get, path), responseType, ct);

    private Task<TResponse> SendAsync<TRequest, TResponse>(
        HttpMethod method, string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        var request = CreateRequest(method, path);
        request.Content = JsonContent.Create(body, requestType);
        return SendCoreAsync(request, responseType, ct);
    }

    private async Task<TResponse> SendCoreAsync<TResponse>(HttpRequestMessage request, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using (request)
        {
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            await ApiErrors.ThrowIfErrorAsync(response, _time, ct).ConfigureAwait(false);
            return await response.Content.ReadFromJsonAsync(responseType, ct).ConfigureAwait(false)
                ?? throw new TollgateApiException(response.StatusCode, null, "The server answered with an empty body.");
        }
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, BaseAddress.Combine(_baseAddress, path));
        request.Headers.Authorization = _authorization;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>An id as one path segment: required, and escaped so that it cannot leave its segment.</summary>
    private static string Segment(string id, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(id))] string? parameterName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id, parameterName);
        return Uri.EscapeDataString(id);
    }
}
