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

    /// <summary>One page of organizations, oldest first (<c>GET /admin/orgs?limit=&amp;after=</c>); operator tokens only.</summary>
    /// <param name="limit">At most this many (1 to 1000); default <see langword="null"/>: the server's default, 100.</param>
    /// <param name="after">The <see cref="Page{T}.Next"/> of the previous page; default <see langword="null"/>: the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">400 <c>invalid_parameter</c> for a bad limit or cursor; 403 for an organization admin token.</exception>
    public Task<Page<Organization>> ListOrganizationsAsync(int? limit = null, string? after = null, CancellationToken cancellationToken = default) =>
        GetAsync(Paged("admin/orgs", limit, after), ClientJsonContext.Default.PageOrganization, cancellationToken);

    /// <summary>Every organization, page after page (<see cref="ListOrganizationsAsync"/>).</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public IAsyncEnumerable<Organization> ListAllOrganizationsAsync(CancellationToken cancellationToken = default) =>
        AllAsync((after, ct) => ListOrganizationsAsync(null, after, ct), cancellationToken);

    /// <summary>One organization (<c>GET /admin/orgs/{orgId}</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c>; 403 for an admin token of another organization.</exception>
    public Task<Organization> GetOrganizationAsync(string orgId, CancellationToken cancellationToken = default) =>
        GetAsync($"admin/orgs/{Segment(orgId)}", ClientJsonContext.Default.Organization, cancellationToken);

    /// <summary>Creates a user in an organization (<c>POST /admin/orgs/{orgId}/users</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="name">The user's display name: 1 to 200 characters.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization; 422 for a bad name.</exception>
    public Task<User> CreateUserAsync(string orgId, string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"admin/orgs/{Segment(orgId)}/users", new CreateNameRequest(name),
            ClientJsonContext.Default.CreateNameRequest, ClientJsonContext.Default.User, cancellationToken);

    /// <summary>One page of an organization's users, oldest first (<c>GET /admin/orgs/{orgId}/users?limit=&amp;after=</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="limit">At most this many (1 to 1000); default: the server's, 100.</param>
    /// <param name="after">The previous page's <see cref="Page{T}.Next"/>; default: the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization; 400 for a bad limit or cursor.</exception>
    public Task<Page<User>> ListUsersAsync(string orgId, int? limit = null, string? after = null, CancellationToken cancellationToken = default) =>
        GetAsync(Paged($"admin/orgs/{Segment(orgId)}/users", limit, after), ClientJsonContext.Default.PageUser, cancellationToken);

    /// <summary>Every user of an organization, page after page.</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public IAsyncEnumerable<User> ListAllUsersAsync(string orgId, CancellationToken cancellationToken = default) =>
        AllAsync((after, ct) => ListUsersAsync(orgId, null, after, ct), cancellationToken);

    /// <summary>One user (<c>GET /admin/users/{userId}</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> (also for a user of another organization than an organization admin token's).</exception>
    public Task<User> GetUserAsync(string userId, CancellationToken cancellationToken = default) =>
        GetAsync($"admin/users/{Segment(userId)}", ClientJsonContext.Default.User, cancellationToken);

    /// <summary>Disables a user (<c>POST /admin/users/{userId}/disable</c>): their keys are refused (401 <c>user_disabled</c>) within a second on every node.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The user, with <see cref="User.DisabledAt"/> set.</returns>
    public Task<User> DisableUserAsync(string userId, CancellationToken cancellationToken = default) =>
        SendCoreAsync(CreateRequest(HttpMethod.Post, $"admin/users/{Segment(userId)}/disable"), ClientJsonContext.Default.User, cancellationToken);

    /// <summary>Enables a disabled user again (<c>POST /admin/users/{userId}/enable</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<User> EnableUserAsync(string userId, CancellationToken cancellationToken = default) =>
        SendCoreAsync(CreateRequest(HttpMethod.Post, $"admin/users/{Segment(userId)}/enable"), ClientJsonContext.Default.User, cancellationToken);

    /// <summary>What the ledger charged a user, through all their keys, per model in a month (<c>GET /admin/users/{userId}/usage?month=</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="month"><c>YYYY-MM</c>; default <see langword="null"/>: this month.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ChargedUsage> GetUserUsageAsync(string userId, string? month = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithMonth($"admin/users/{Segment(userId)}/usage", month), ClientJsonContext.Default.ChargedUsage, cancellationToken);

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

    /// <summary>One page of an organization's keys, revoked ones included, without secrets (<c>GET /admin/orgs/{orgId}/keys?limit=&amp;after=</c>).</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="limit">At most this many (1 to 1000); default: the server's, 100.</param>
    /// <param name="after">The previous page's <see cref="Page{T}.Next"/>; default: the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 <c>not_found</c> for an unknown organization; 400 for a bad limit or cursor.</exception>
    public Task<Page<ApiKey>> ListKeysAsync(string orgId, int? limit = null, string? after = null, CancellationToken cancellationToken = default) =>
        GetAsync(Paged($"admin/orgs/{Segment(orgId)}/keys", limit, after), ClientJsonContext.Default.PageApiKey, cancellationToken);

    /// <summary>Every key of an organization, page after page.</summary>
    /// <param name="orgId">The organization.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public IAsyncEnumerable<ApiKey> ListAllKeysAsync(string orgId, CancellationToken cancellationToken = default) =>
        AllAsync((after, ct) => ListKeysAsync(orgId, null, after, ct), cancellationToken);

    /// <summary>
    /// Rotates a key (<c>POST /admin/keys/{keyId}/rotate</c>): a new key with the same owner, name and entitlements; the
    /// old key keeps working for <paramref name="overlap"/>, then stops.
    /// </summary>
    /// <param name="keyId">The key to replace.</param>
    /// <param name="overlap">How long the old key keeps working (whole seconds, up to 90 days; zero revokes it at once); default <see langword="null"/>: the server's 24 hours.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TollgateApiException">404 for an unknown key; 409 <c>key_not_rotatable</c> for a revoked or expired one; 422 for a bad overlap.</exception>
    public Task<RotatedApiKey> RotateKeyAsync(string keyId, TimeSpan? overlap = null, CancellationToken cancellationToken = default)
    {
        var path = $"admin/keys/{Segment(keyId)}/rotate";
        if (overlap is not { } span)
        {
            return SendCoreAsync(CreateRequest(HttpMethod.Post, path), ClientJsonContext.Default.RotatedApiKey, cancellationToken);
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(span, TimeSpan.Zero, nameof(overlap));
        var text = ((long)Math.Ceiling(span.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) + "s";
        return SendAsync(HttpMethod.Post, path, new RotateKeyRequest(text), ClientJsonContext.Default.RotateKeyRequest,
            ClientJsonContext.Default.RotatedApiKey, cancellationToken);
    }

    /// <summary>What the ledger charged one key per model in a month (<c>GET /admin/keys/{keyId}/usage?month=</c>).</summary>
    /// <param name="keyId">The key.</param>
    /// <param name="month"><c>YYYY-MM</c>; default <see langword="null"/>: this month.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ChargedUsage> GetKeyUsageAsync(string keyId, string? month = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithMonth($"admin/keys/{Segment(keyId)}/usage", month), ClientJsonContext.Default.ChargedUsage, cancellationToken);

    /// <summary>Creates an admin token (<c>POST /admin/tokens</c>; operator tokens only). Its secret is in this answer only.</summary>
    /// <param name="name">An optional label.</param>
    /// <param name="orgId">The organization it may administer (only that organization's calls); default <see langword="null"/>: an operator token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<CreatedAdminToken> CreateAdminTokenAsync(string? name = null, string? orgId = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "admin/tokens", new CreateAdminTokenRequest(name, orgId), ClientJsonContext.Default.CreateAdminTokenRequest,
            ClientJsonContext.Default.CreatedAdminToken, cancellationToken);

    /// <summary>Every admin token, revoked ones included, without secrets (<c>GET /admin/tokens</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<AdminToken>> ListAdminTokensAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync("admin/tokens", ClientJsonContext.Default.AdminTokenList, cancellationToken).ConfigureAwait(false)).Items;

    /// <summary>Revokes an admin token (<c>DELETE /admin/tokens/{tokenId}</c>): refused from the next call, on every node.</summary>
    /// <param name="tokenId">The token's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task RevokeAdminTokenAsync(string tokenId, CancellationToken cancellationToken = default)
    {
        using var request = CreateRequest(HttpMethod.Delete, $"admin/tokens/{Segment(tokenId)}");
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ApiErrors.ThrowIfErrorAsync(response, _time, cancellationToken).ConfigureAwait(false);
    }

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
        return GetAsync(WithMonth($"admin/orgs/{Segment(orgId)}/usage", month), ClientJsonContext.Default.UsageReport, cancellationToken);
    }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it; one passed in is left alone.</summary>
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _http.Dispose();
        }
    }

    private static string WithMonth(string path, string? month) =>
        string.IsNullOrEmpty(month) ? path : path + "?month=" + Uri.EscapeDataString(month);

    private static string Paged(string path, int? limit, string? after)
    {
        var query = new List<string>(2);
        if (limit is { } l)
        {
            query.Add("limit=" + l.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (!string.IsNullOrEmpty(after))
        {
            query.Add("after=" + Uri.EscapeDataString(after));
        }
        return query.Count == 0 ? path : path + "?" + string.Join('&', query);
    }

    private static async IAsyncEnumerable<T> AllAsync<T>(Func<string?, CancellationToken, Task<Page<T>>> page,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        do
        {
            var current = await page(after, cancellationToken).ConfigureAwait(false);
            foreach (var item in current.Items)
            {
                yield return item;
            }
            after = current.Next;
        }
        while (after is not null);
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
