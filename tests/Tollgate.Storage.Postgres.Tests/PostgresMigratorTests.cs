using Dapper;

namespace Tollgate.Storage.Postgres;

/// <summary>The PostgreSQL schema: versioned DbUp scripts, run once however many nodes start at once.</summary>
public sealed class PostgresMigratorTests : IDisposable
{
    private readonly TempSchema _schema = new();

    public void Dispose() => _schema.Dispose();

    [Fact]
    public async Task AnEmptyDatabase_GetsEveryTable_AndASecondRunRunsNothing()
    {
        var database = _schema.Unmigrated();
        var applied = new PostgresMigrator().Migrate(database);
        Assert.Equal(PostgresMigrator.Scripts, applied);
        Assert.Empty(new PostgresMigrator().Migrate(database));

        await using var c = await database.DataSource.OpenConnectionAsync();
        var tables = (await c.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = @schema ORDER BY table_name", new { schema = _schema.Name })).ToList();
        Assert.Equal(
            ["admin_tokens", "api_keys", "dubbing_credits", "dubbing_voices", "dubs", "jobs", "organizations", "platform_files", "platform_jobs", "rejection_counts", PostgresMigrator.JournalTable, "settings", "usage_charges", "users"],
            tables);
    }

    [Fact]
    public async Task NodesStartingAtOnce_OnAnEmptyDatabase_RunEachScriptOnce_AndAllSucceed()
    {
        var nodes = Enumerable.Range(0, 6).Select(_ => _schema.Unmigrated()).ToArray();
        var applied = await Task.WhenAll(nodes.Select(n => Task.Run(() => new PostgresMigrator().Migrate(n))));

        Assert.Equal(PostgresMigrator.Scripts, Assert.Single(applied, a => a.Count > 0));
        await using var c = await nodes[0].DataSource.OpenConnectionAsync();
        Assert.Equal(PostgresMigrator.Scripts.Count, await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {PostgresMigrator.JournalTable}"));
    }

    [Fact]
    public void TheScripts_AreNumberedAndRunInNameOrder()
    {
        Assert.NotEmpty(PostgresMigrator.Scripts);
        Assert.StartsWith("Tollgate.Storage.Postgres.Migrations.0001_", PostgresMigrator.Scripts[0]);
        Assert.Equal(PostgresMigrator.Scripts.Order(StringComparer.Ordinal), PostgresMigrator.Scripts);
    }
}
