using Dapper;
using Tollgate.Identity;

namespace Tollgate.Storage.Relational.Identity;

/// <summary>Admin tokens (table <c>admin_tokens</c>): the SHA-256 and visible prefix of each, never the secret.</summary>
internal sealed class SqlAdminTokenStore(SqlDatabase db) : IAdminTokenStore
{
    private const string Select = "SELECT id, name, prefix, hash, org_id AS OrgId, created_at AS CreatedAt, revoked_at AS RevokedAt FROM admin_tokens";

    public async Task AddAsync(AdminTokenRecord token, CancellationToken ct = default)
    {
        await using var c = await db.OpenWriterAsync(ct);
        await c.ExecuteAsync(
            "INSERT INTO admin_tokens(id, name, prefix, hash, org_id, created_at, revoked_at) VALUES (@Id, @Name, @Prefix, @Hash, @OrgId, @CreatedAt, NULL)",
            new { token.Id, token.Name, token.Prefix, Hash = token.Hash.ToHex(), token.OrgId, CreatedAt = db.Time(token.CreatedAt) });
    }

    public async Task<IReadOnlyList<AdminTokenRecord>> ListAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. (await c.QueryAsync<Row>($"{Select} ORDER BY created_at, id")).Select(r => r.ToModel(db))];
    }

    public async Task<AdminTokenRecord?> GetAsync(string tokenId, CancellationToken ct = default)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<Row>($"{Select} WHERE id = @tokenId", new { tokenId }))?.ToModel(db);
    }

    public async Task<AdminTokenRecord?> FindByHashAsync(KeyHash hash, CancellationToken ct = default)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<Row>($"{Select} WHERE hash = @hash", new { hash = hash.ToHex() }))?.ToModel(db);
    }

    public async Task<bool> RevokeAsync(string tokenId, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var c = await db.OpenWriterAsync(ct);
        await c.ExecuteAsync("UPDATE admin_tokens SET revoked_at = @at WHERE id = @tokenId AND revoked_at IS NULL", new { tokenId, at = db.Time(at) });
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM admin_tokens WHERE id = @tokenId", new { tokenId }) > 0;
    }

    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string? Name { get; set; }
        public string Prefix { get; set; } = "";
        public string Hash { get; set; } = "";
        public string? OrgId { get; set; }
        public object CreatedAt { get; set; } = null!;
        public object? RevokedAt { get; set; }

        public AdminTokenRecord ToModel(SqlDatabase db) =>
            new(Id, Name, Prefix, KeyHash.FromHex(Hash), OrgId, db.ReadTime(CreatedAt), db.ReadNullableTime(RevokedAt));
    }
}
