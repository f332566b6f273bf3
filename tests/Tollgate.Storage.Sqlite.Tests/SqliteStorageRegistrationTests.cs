using Microsoft.Extensions.DependencyInjection;
using Tollgate.Blobs;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Metering;
using Tollgate.Platform;

namespace Tollgate.Storage.Sqlite;

/// <summary><c>AddSqliteStorage</c>: every store on one migrated file in the data directory, and blobs beside it.</summary>
public sealed class SqliteStorageRegistrationTests : IDisposable
{
    private readonly TempStore _data = new();

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task ARelativeFile_LivesInTheDataDirectory_AndEveryStoreWorksOnIt()
    {
        await using var services = new ServiceCollection().AddSqliteStorage("Data Source=tollgate.db", _data.Folder).BuildServiceProvider();

        var identity = services.GetRequiredService<IIdentityStore>();
        var org = await identity.CreateOrganizationAsync("acme");
        Assert.True(File.Exists(Path.Combine(_data.Folder, "tollgate.db")));
        Assert.Equal(org, await identity.GetOrganizationAsync(org.Id));
        Assert.Empty(await services.GetRequiredService<IUsageLedger>().ChargesAsync(org.Id, new Limits.MonthPeriod(2026, 5)));
        Assert.Equal(0, await services.GetRequiredService<IDubbingStore>().CreditsUsedAsync(org.Id, new Limits.MonthPeriod(2026, 5)));
        Assert.Empty(await services.GetRequiredService<IPlatformStore>().ListAsync(PlatformJobStatus.Pending));

        var blobs = services.GetRequiredService<IBlobStore>();
        await blobs.PutAsync("dubbing/x.input", new MemoryStream([7]));
        Assert.Equal([7], await File.ReadAllBytesAsync(Path.Combine(_data.Folder, "dubbing", "x.input")));
    }

    [Fact]
    public void AnAbsoluteFile_StaysWhereItIs()
    {
        var elsewhere = Path.Combine(_data.Folder, "elsewhere", "t.db");
        Assert.Contains(elsewhere, SqliteDatabase.Resolve($"Data Source={elsewhere}", Path.Combine(_data.Folder, "data")));
    }

    [Theory]
    [InlineData("Data Source=db.internal;Initial Catalog=tollgate")]
    [InlineData("Mode=ReadWriteCreate")]
    public void AStringSqliteCannotOpenAsAFile_IsRefusedWhenRegistering(string connectionString)
    {
        Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddSqliteStorage(connectionString, _data.Folder));
    }
}
