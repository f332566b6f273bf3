using Dapper;
using Microsoft.Data.Sqlite;
using Tollgate.Dubbing;
using Tollgate.Limits;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Relational.Identity;
using Tollgate.Storage.Relational.Metering;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Versioned migrations: a fresh file gets the whole schema, a file made by the code before migrations (tables, no
/// journal) upgrades in place keeping its rows, and running again — or twice at once — runs nothing twice.
/// </summary>
public sealed class SqliteMigratorTests : IDisposable
{
    /// <summary>
    /// "v0": the statements the stores ran in their constructors before migrations were versioned, copied verbatim
    /// from that code. A database file made then holds exactly this, and no journal.
    /// </summary>
    private const string V0Schema = """
        CREATE TABLE IF NOT EXISTS organizations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS users (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            created_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS users_org ON users(org_id);
        CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES organizations(id),
            user_id TEXT NOT NULL REFERENCES users(id),
            name TEXT NULL,
            prefix TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            models TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_used_at TEXT NULL,
            revoked_at TEXT NULL);
        CREATE INDEX IF NOT EXISTS api_keys_org ON api_keys(org_id);
        CREATE TABLE IF NOT EXISTS settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS usage_charges (
            request_id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            model TEXT NOT NULL,
            ms INTEGER NOT NULL CHECK (ms >= 0),
            period TEXT NOT NULL,
            at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS usage_charges_pool ON usage_charges(org_id, period, model);
        CREATE TRIGGER IF NOT EXISTS usage_charges_append_only_update BEFORE UPDATE ON usage_charges
            BEGIN SELECT RAISE(ABORT, 'usage_charges is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS usage_charges_append_only_delete BEFORE DELETE ON usage_charges
            BEGIN SELECT RAISE(ABORT, 'usage_charges is append-only'); END;
        CREATE TABLE IF NOT EXISTS dubs (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            name TEXT NOT NULL,
            source_language TEXT NULL,
            target_language TEXT NOT NULL,
            voice_id TEXT NULL,
            status TEXT NOT NULL,
            input_duration_ms INTEGER NULL,
            required_credits INTEGER NULL,
            api_credits_used INTEGER NOT NULL,
            input_format TEXT NULL,
            error_code TEXT NULL,
            error_message TEXT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS dubs_status ON dubs(status);
        CREATE INDEX IF NOT EXISTS dubs_user ON dubs(user_id);
        CREATE TABLE IF NOT EXISTS dubbing_voices (
            id TEXT PRIMARY KEY,
            org_id TEXT NULL,
            owner_user_id TEXT NULL,
            name TEXT NOT NULL,
            language TEXT NOT NULL,
            genre TEXT NULL,
            style TEXT NULL,
            description TEXT NULL,
            status TEXT NOT NULL,
            sample_file TEXT NULL,
            sample_duration_ms INTEGER NULL,
            sample_loudness_db REAL NULL,
            error_code TEXT NULL,
            error_message TEXT NULL,
            created_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS dubbing_voices_owner ON dubbing_voices(owner_user_id);
        CREATE TABLE IF NOT EXISTS dubbing_credits (
            entry_id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL,
            dub_id TEXT NOT NULL,
            credits INTEGER NOT NULL,
            period TEXT NOT NULL,
            at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS dubbing_credits_org ON dubbing_credits(org_id, period);
        CREATE INDEX IF NOT EXISTS dubbing_credits_dub ON dubbing_credits(dub_id);
        """;

    private readonly TempStore _file = new();

    public void Dispose() => _file.Dispose();

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_file.ConnectionString);
        connection.Open();
        return connection;
    }

    private static IReadOnlyList<string> Journal(SqliteConnection c) =>
        [.. c.Query<string>($"SELECT ScriptName FROM {SqliteMigrator.JournalTable} ORDER BY ScriptName")];

    [Fact]
    public async Task AFileFromBeforeMigrations_UpgradesInPlace_AndEveryRowIsReadBack()
    {
        using (var c = Connect())
        {
            c.Execute("PRAGMA journal_mode=WAL;");
            c.Execute(V0Schema);
            c.Execute("INSERT INTO organizations(id, name, created_at) VALUES ('org_v0', 'Acme', '2026-05-01T10:00:00.000Z')");
            c.Execute("INSERT INTO users(id, org_id, name, created_at) VALUES ('usr_v0', 'org_v0', 'alice', '2026-05-01T10:00:01.000Z')");
            c.Execute("INSERT INTO settings(name, value) VALUES ('admin_token_sha256', 'abc')");
            c.Execute("""
                INSERT INTO usage_charges(request_id, org_id, user_id, key_id, model, ms, period, at)
                VALUES ('req_v0', 'org_v0', 'usr_v0', 'key_v0', 'velma-2-stt-batch', 4200, '2026-05', '2026-05-02T08:00:00.250Z')
                """);
            c.Execute("""
                INSERT INTO dubs(id, org_id, user_id, name, source_language, target_language, voice_id, status, input_duration_ms,
                    required_credits, api_credits_used, input_format, error_code, error_message, created_at, updated_at)
                VALUES ('dub_v0', 'org_v0', 'usr_v0', 'talk', 'en', 'es', NULL, 'done', 3000, 3, 3, 'wav/pcm_s16le', NULL, NULL,
                    '2026-05-03T09:00:00.000Z', '2026-05-03T09:05:00.000Z')
                """);
            Assert.Equal(0L, c.ExecuteScalar<long>($"SELECT COUNT(*) FROM sqlite_master WHERE name = '{SqliteMigrator.JournalTable}'"));
        }
        SqliteConnection.ClearAllPools();

        var database = new SqliteDatabase(_file.ConnectionString);
        var applied = new SqliteMigrator().Migrate(database);

        Assert.Equal(SqliteMigrator.Scripts, applied);
        var identity = new SqlIdentityStore(database, TimeProvider.System);
        Assert.Equal("Acme", (await identity.GetOrganizationAsync("org_v0"))!.Name);
        Assert.Equal("alice", (await identity.GetUserAsync("usr_v0"))!.Name);
        Assert.Equal("abc", await identity.GetSettingAsync("admin_token_sha256"));
        var charge = Assert.Single(await new SqlUsageLedger(database).ChargesAsync("org_v0", new MonthPeriod(2026, 5)));
        Assert.Equal(("req_v0", 4200L, new DateTimeOffset(2026, 5, 2, 8, 0, 0, 250, TimeSpan.Zero)), (charge.RequestId, charge.Milliseconds, charge.At));
        var dub = await new SqlDubbingStore(database).GetDubAsync("dub_v0", "usr_v0");
        Assert.Equal((DubStatus.Done, 3), (dub!.Status, dub.ApiCreditsUsed));

        // The ledger is still append-only, and new rows go in beside the old ones.
        using (var c = database.Open())
        {
            Assert.Throws<SqliteException>(() => c.Execute("UPDATE usage_charges SET ms = 0"));
            Assert.Equal(SqliteMigrator.Scripts, Journal(c));
        }
        Assert.NotNull(await identity.CreateOrganizationAsync("after the upgrade"));

        Assert.Empty(new SqliteMigrator().Migrate(database));
    }

    [Fact]
    public void AFreshFile_GetsEveryTable_AndTheJournalListsEachScriptOnce()
    {
        var database = new SqliteDatabase(_file.ConnectionString);
        Assert.Equal(SqliteMigrator.Scripts, new SqliteMigrator().Migrate(database));
        Assert.Empty(new SqliteMigrator().Migrate(database));

        using var c = database.Open();
        var tables = c.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").ToList();
        foreach (var table in new[] { "api_keys", "dubbing_credits", "dubbing_voices", "dubs", "organizations", "settings", "usage_charges", "users", SqliteMigrator.JournalTable })
        {
            Assert.Contains(table, tables);
        }
        Assert.Equal(SqliteMigrator.Scripts, Journal(c));
        Assert.StartsWith("Tollgate.Storage.Sqlite.Migrations.0001_", SqliteMigrator.Scripts[0]);
    }

    [Fact]
    public async Task ProcessesStartingTogetherOnOneFile_RunEachScriptOnce()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            new SqliteMigrator().Migrate(new SqliteDatabase(_file.ConnectionString)))));
        Assert.Single(results, r => r.Count > 0);
        using var c = Connect();
        Assert.Equal(SqliteMigrator.Scripts, Journal(c));
    }
}
