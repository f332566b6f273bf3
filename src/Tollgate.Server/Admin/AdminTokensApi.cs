using Tollgate.Identity;
using Tollgate.Server.Http;
using Tollgate.Server.OpenApi;
using static Tollgate.Server.Admin.AdminResults;

namespace Tollgate.Server.Admin;

/// <summary>
/// Admin tokens as records (operator tokens only): create (the secret in that answer only), list, revoke. A token with
/// an <c>org_id</c> administers that organization only; without one it is an operator token. The configured or
/// first-start token is not a record: it always works, and is how admin access is recovered.
/// </summary>
internal static class AdminTokensApi
{
    public static RouteGroupBuilder MapAdminTokensApi(this RouteGroupBuilder admin)
    {
        admin.MapPost("/tokens", CreateToken).WithName("CreateAdminToken")
            .WithSummary("Create an admin token: an operator token, or with org_id an organization admin token (that organization's calls only). The secret is in this answer only.")
            .AcceptsJson<CreateAdminTokenRequest>().Produces<CreatedAdminTokenDto>(StatusCodes.Status201Created)
            .Refuses(BodyRefusals(403, 404, 422)).Scoped(AdminScope.Operator);
        admin.MapGet("/tokens", ListTokens).WithName("ListAdminTokens").WithSummary("List admin tokens (no secrets), revoked ones included.")
            .Produces<AdminTokenListDto>().Refuses(403).Scoped(AdminScope.Operator);
        admin.MapDelete("/tokens/{tokenId}", RevokeToken).WithName("RevokeAdminToken")
            .WithSummary("Revoke an admin token: refused on every node from the next call.")
            .Produces(StatusCodes.Status204NoContent).Refuses(403, 404).Scoped(AdminScope.Operator);
        return admin;
    }

    private static async Task<IResult> CreateToken(HttpRequest request, IIdentityStore store, IAdminTokenStore tokens, TimeProvider time, CancellationToken ct)
    {
        var (body, error) = await AdminBody.ReadAsync(request, static b =>
        {
            b.Takes("name", "org_id");
            return new CreateAdminTokenRequest(b.Text("name"), b.Text("org_id"));
        }, ct);
        if (error is not null)
        {
            return error;
        }
        if (body!.Name is { Length: > AdminApi.MaxNameLength })
        {
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationFailed, $"name: at most {AdminApi.MaxNameLength} characters.");
        }
        if (body.OrgId is { } orgId && await store.GetOrganizationAsync(orgId, ct) is null)
        {
            return OrgNotFound(orgId);
        }
        var created = await IssueAsync(body.Name, body.OrgId, tokens, time, ct);
        return TypedResults.Created($"/admin/tokens/{created.Id}", created);
    }

    /// <summary>Stores a new admin token record (the Admin API's and the console's); the answer is the only place its secret appears.</summary>
    internal static async Task<CreatedAdminTokenDto> IssueAsync(string? name, string? orgId, IAdminTokenStore tokens, TimeProvider time, CancellationToken ct)
    {
        var secret = AdminTokens.Generate();
        var record = new AdminTokenRecord(Ids.New("atk"), string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
            AdminTokens.VisiblePrefix(secret), AdminTokens.Hash(secret), orgId, Timestamps.Now(time), null);
        await tokens.AddAsync(record, ct);
        return new CreatedAdminTokenDto(record.Id, secret, record.Prefix, record.Name, record.OrgId, record.CreatedAt);
    }

    private static async Task<IResult> ListTokens(IAdminTokenStore tokens, CancellationToken ct) =>
        TypedResults.Ok(new AdminTokenListDto([.. (await tokens.ListAsync(ct)).Select(AdminTokenDto.From)]));

    private static async Task<IResult> RevokeToken(string tokenId, IAdminTokenStore tokens, TimeProvider time, CancellationToken ct) =>
        await tokens.RevokeAsync(tokenId, Timestamps.Now(time), ct)
            ? TypedResults.NoContent()
            : ApiError.Result(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No admin token {tokenId}.");
}
