using System.Collections.Frozen;
using System.Text.Json;
using Dapper;
using Tollgate.Identity;

namespace Tollgate.Storage.Relational.Identity;

/// <summary>Organizations, users, keys and settings (tables <c>organizations</c>, <c>users</c>, <c>api_keys</c>, <c>settings</c> of the engine's migrations).</summary>
internal sealed class SqlIdentityStore : IIdentityStore
{
    private readonly SqlDatabase _db;
    private readonly TimeProvider _time;

    public SqlIdentityStore(SqlDatabase db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    public async Task<Organization> CreateOrganizationAsync(string name, CancellationToken ct = default)
    {
        var org = new Organization(Ids.New("org"), name, Now());
        await using var c = await _db.OpenWriterAsync(ct);
        await c.ExecuteAsync("INSERT INTO organizations(id, name, created_at) VALUES (@Id, @Name, @At)",
            new { org.Id, org.Name, At = _db.Time(org.CreatedAt) });
        return org;
    }

    public async Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<OrgRow>("SELECT id, name, created_at FROM organizations ORDER BY created_at, id");
        return rows.Select(r => r.ToModel(_db)).ToList();
    }

    public async Task<IReadOnlyList<Organization>> PageOrganizationsAsync(int limit, string? after, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<OrgRow>(
            $"SELECT id, name, created_at FROM organizations WHERE {After("organizations")} ORDER BY created_at, id LIMIT @limit",
            new { after, limit });
        return rows.Select(r => r.ToModel(_db)).ToList();
    }

    public async Task<Organization?> GetOrganizationAsync(string orgId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<OrgRow>("SELECT id, name, created_at FROM organizations WHERE id = @orgId", new { orgId });
        return row?.ToModel(_db);
    }

    public async Task<User> CreateUserAsync(string orgId, string name, CancellationToken ct = default)
    {
        var user = new User(Ids.New("usr"), orgId, name, Now());
        await using var c = await _db.OpenWriterAsync(ct);
        await c.ExecuteAsync("INSERT INTO users(id, org_id, name, created_at) VALUES (@Id, @OrgId, @Name, @At)",
            new { user.Id, user.OrgId, user.Name, At = _db.Time(user.CreatedAt) });
        return user;
    }

    public async Task<IReadOnlyList<User>> ListUsersAsync(string orgId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<UserRow>($"{SelectUser} WHERE org_id = @orgId ORDER BY created_at, id", new { orgId });
        return rows.Select(r => r.ToModel(_db)).ToList();
    }

    public async Task<IReadOnlyList<User>> PageUsersAsync(string orgId, int limit, string? after, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<UserRow>($"{SelectUser} WHERE org_id = @orgId AND {After("users")} ORDER BY created_at, id LIMIT @limit",
            new { orgId, after, limit });
        return rows.Select(r => r.ToModel(_db)).ToList();
    }

    public async Task<User?> SetUserDisabledAsync(string userId, DateTimeOffset? at, CancellationToken ct = default)
    {
        await using var c = await _db.OpenWriterAsync(ct);
        // Disabling keeps the first time (COALESCE); enabling clears it.
        var row = await c.QuerySingleOrDefaultAsync<UserRow>(
            at is null
                ? "UPDATE users SET disabled_at = NULL WHERE id = @userId RETURNING id, org_id, name, created_at, disabled_at"
                : "UPDATE users SET disabled_at = COALESCE(disabled_at, @at) WHERE id = @userId RETURNING id, org_id, name, created_at, disabled_at",
            new { userId, at = at is { } t ? _db.Time(t) : null });
        return row?.ToModel(_db);
    }

    public async Task<User?> GetUserAsync(string userId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<UserRow>($"{SelectUser} WHERE id = @userId", new { userId });
        return row?.ToModel(_db);
    }

    public async Task AddKeyAsync(ApiKeyRecord key, CancellationToken ct = default)
    {
        await using var c = await _db.OpenWriterAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO api_keys(id, org_id, user_id, name, prefix, hash, models, created_at, last_used_at, revoked_at, expires_at)
            VALUES (@Id, @OrgId, @UserId, @Name, @Prefix, @Hash, @Models, @CreatedAt, NULL, NULL, @ExpiresAt)
            """,
            KeyParameters(key));
    }

    private object KeyParameters(ApiKeyRecord key) => new
    {
        key.Id,
        key.OrgId,
        key.UserId,
        key.Name,
        key.Prefix,
        Hash = key.Hash.ToHex(),
        Models = JsonSerializer.Serialize(key.Models.ToDictionary(p => p.Key, p => new StoredLimits(p.Value.Concurrency, p.Value.MonthlyAudioHours))),
        CreatedAt = _db.Time(key.CreatedAt),
        ExpiresAt = key.ExpiresAt is { } e ? _db.Time(e) : null,
    };

    public async Task<IReadOnlyList<ApiKeyRecord>> PageKeysAsync(string orgId, int limit, string? after, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<KeyRow>($"{SelectKey} WHERE k.org_id = @orgId AND {After("api_keys", "k.")} ORDER BY k.created_at, k.id LIMIT @limit",
            new { orgId, after, limit });
        return rows.Select(r => r.ToModel(_db)).ToList();
    }

    public async Task<bool> RotateKeyAsync(string keyId, ApiKeyRecord replacement, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var c = await _db.OpenWriterAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // The old key's end moves only earlier; a revoked or already expired key is not rotated (and nothing is stored).
        var changed = await c.ExecuteAsync(
            """
            UPDATE api_keys SET expires_at = CASE WHEN expires_at IS NULL OR expires_at > @expiresAt THEN @expiresAt ELSE expires_at END
            WHERE id = @keyId AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now)
            """,
            new { keyId, expiresAt = _db.Time(expiresAt), now = _db.Time(now) }, tx);
        if (changed == 0)
        {
            await tx.RollbackAsync(ct);
            return false;
        }
        await c.ExecuteAsync(
            """
            INSERT INTO api_keys(id, org_id, user_id, name, prefix, hash, models, created_at, last_used_at, revoked_at, expires_at)
            VALUES (@Id, @OrgId, @UserId, @Name, @Prefix, @Hash, @Models, @CreatedAt, NULL, NULL, @ExpiresAt)
            """,
            KeyParameters(replacement), tx);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string orgId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<KeyRow>($"{SelectKey} WHERE k.org_id = @orgId ORDER BY k.created_at, k.id", new { orgId });
        return rows.Select(r => r.ToModel(_db)).ToList();
    }

    public async Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<KeyRow>($"{SelectKey} WHERE k.id = @keyId", new { keyId });
        return row?.ToModel(_db);
    }

    public async Task<ApiKeyRecord?> FindKeyByHashAsync(KeyHash hash, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<KeyRow>($"{SelectKey} WHERE k.hash = @hash", new { hash = hash.ToHex() });
        return row?.ToModel(_db);
    }

    public async Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var c = await _db.OpenWriterAsync(ct);
        await c.ExecuteAsync("UPDATE api_keys SET revoked_at = @at WHERE id = @keyId AND revoked_at IS NULL", new { keyId, at = _db.Time(at) });
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_keys WHERE id = @keyId", new { keyId }) > 0;
    }

    public async Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken ct = default)
    {
        if (lastUsed.Count == 0)
        {
            return;
        }
        await using var c = await _db.OpenWriterAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // In key order: two nodes flushing overlapping batches at once then lock the rows in the same order (PostgreSQL
        // would otherwise end one of them as a deadlock).
        foreach (var (id, at) in lastUsed.OrderBy(static p => p.Key, StringComparer.Ordinal))
        {
            await c.ExecuteAsync(
                "UPDATE api_keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)",
                new { id, at = _db.Time(at) }, tx);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<string?> GetSettingAsync(string name, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string>("SELECT value FROM settings WHERE name = @name", new { name });
    }

    public async Task SetSettingAsync(string name, string value, CancellationToken ct = default)
    {
        await using var c = await _db.OpenWriterAsync(ct);
        await c.ExecuteAsync("INSERT INTO settings(name, value) VALUES (@name, @value) ON CONFLICT(name) DO UPDATE SET value = excluded.value", new { name, value });
    }

    public async Task<string> AddSettingAsync(string name, string value, CancellationToken ct = default)
    {
        await using var c = await _db.OpenWriterAsync(ct);
        // The insert that finds the row there does nothing; the row then read is the one the first caller committed.
        await c.ExecuteAsync("INSERT INTO settings(name, value) VALUES (@name, @value) ON CONFLICT(name) DO NOTHING", new { name, value });
        return await c.QuerySingleAsync<string>("SELECT value FROM settings WHERE name = @name", new { name });
    }

    // A key is read with its user's disabled_at, so authentication judges both from one row.
    private const string SelectKey =
        "SELECT k.id, k.org_id AS OrgId, k.user_id AS UserId, k.name, k.prefix, k.hash, k.models, k.created_at AS CreatedAt, " +
        "k.last_used_at AS LastUsedAt, k.revoked_at AS RevokedAt, k.expires_at AS ExpiresAt, u.disabled_at AS UserDisabledAt " +
        "FROM api_keys k JOIN users u ON u.id = k.user_id";

    private const string SelectUser = "SELECT id, org_id, name, created_at, disabled_at FROM users";

    /// <summary>
    /// The keyset condition of a page: rows after the one whose id is <c>@after</c> in (created_at, id) order, every row
    /// when it is null, none when no row has that id.
    /// </summary>
    private static string After(string table, string alias = "") =>
        $"(@after IS NULL OR {alias}created_at > (SELECT created_at FROM {table} WHERE id = @after) " +
        $"OR ({alias}created_at = (SELECT created_at FROM {table} WHERE id = @after) AND {alias}id > @after))";

    private DateTimeOffset Now() => Timestamps.Now(_time);

    private sealed record StoredLimits(int Concurrency, double MonthlyAudioHours);

    private sealed class OrgRow
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public object Created_At { get; set; } = null!;
        public Organization ToModel(SqlDatabase db) => new(Id, Name, db.ReadTime(Created_At));
    }

    private sealed class UserRow
    {
        public string Id { get; set; } = "";
        public string Org_Id { get; set; } = "";
        public string Name { get; set; } = "";
        public object Created_At { get; set; } = null!;
        public object? Disabled_At { get; set; }
        public User ToModel(SqlDatabase db) => new(Id, Org_Id, Name, db.ReadTime(Created_At)) { DisabledAt = db.ReadNullableTime(Disabled_At) };
    }

    private sealed class KeyRow
    {
        public string Id { get; set; } = "";
        public string OrgId { get; set; } = "";
        public string UserId { get; set; } = "";
        public string? Name { get; set; }
        public string Prefix { get; set; } = "";
        public string Hash { get; set; } = "";
        public string Models { get; set; } = "{}";
        public object CreatedAt { get; set; } = null!;
        public object? LastUsedAt { get; set; }
        public object? RevokedAt { get; set; }
        public object? ExpiresAt { get; set; }
        public object? UserDisabledAt { get; set; }

        public ApiKeyRecord ToModel(SqlDatabase db)
        {
            var models = JsonSerializer.Deserialize<Dictionary<string, StoredLimits>>(Models) ?? [];
            return new ApiKeyRecord(
                Id, OrgId, UserId, Name, Prefix, KeyHash.FromHex(Hash),
                models.ToFrozenDictionary(p => p.Key, p => new ModelLimits(p.Value.Concurrency, p.Value.MonthlyAudioHours), StringComparer.Ordinal),
                db.ReadTime(CreatedAt), db.ReadNullableTime(LastUsedAt), db.ReadNullableTime(RevokedAt))
            {
                ExpiresAt = db.ReadNullableTime(ExpiresAt),
                UserDisabledAt = db.ReadNullableTime(UserDisabledAt),
            };
        }
    }
}
