using Microsoft.Extensions.DependencyInjection;
using Tollgate.Blobs;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Metering;
using Tollgate.Platform;

namespace Tollgate.Storage.Postgres;

/// <summary><c>AddPostgresStorage</c>: every durable store on one migrated database, blobs in the data directory.</summary>
public sealed class PostgresStorageRegistrationTests : IDisposable
{
    private readonly TempSchema _schema = new();
    private readonly string _data = Path.Combine(Path.GetTempPath(), "tollgate-postgres-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _schema.Dispose();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task EveryStore_WorksOnTheDatabase_MigratedWhenTheFirstIsMade()
    {
        await using var services = new ServiceCollection().AddPostgresStorage(_schema.ConnectionString, _data).BuildServiceProvider();

        var identity = services.GetRequiredService<IIdentityStore>();
        var org = await identity.CreateOrganizationAsync("acme");
        Assert.Equal(org, await identity.GetOrganizationAsync(org.Id));
        Assert.Empty(await services.GetRequiredService<IUsageLedger>().ChargesAsync(org.Id, new Limits.MonthPeriod(2026, 5)));
        Assert.Equal(0, await services.GetRequiredService<IDubbingStore>().CreditsUsedAsync(org.Id, new Limits.MonthPeriod(2026, 5)));
        Assert.Empty(await services.GetRequiredService<IJobStore>().ListAsync());
        Assert.Empty(await services.GetRequiredService<IPlatformStore>().ListAsync(PlatformJobStatus.Pending));

        var blobs = services.GetRequiredService<IBlobStore>();
        await blobs.PutAsync("dubbing/x.input", new MemoryStream([7]));
        Assert.Equal([7], await File.ReadAllBytesAsync(Path.Combine(_data, "dubbing", "x.input")));
    }

    [Theory]
    [InlineData("Port=5432;Database=tollgate;Username=tollgate")]
    [InlineData("Host=db.internal;Username=tollgate")]
    [InlineData("Host=db.internal;Database=tollgate;Frobnicate=yes")]
    public void AStringThatNamesNoServerOrDatabase_IsRefusedWhenRegistering(string connectionString)
    {
        Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddPostgresStorage(connectionString, _data));
    }
}
