using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Metering;
using Tollgate.Platform;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Relational.Identity;
using Tollgate.Storage.Relational.Jobs;
using Tollgate.Storage.Relational.Metering;
using Tollgate.Storage.Relational.Platform;

namespace Tollgate.Storage.Postgres;

// The contracts of Tollgate.Testing, against the stores on a real PostgreSQL, a fresh schema per test.

public sealed class PostgresIdentityStoreTests : IdentityStoreContractTests, IDisposable
{
    private readonly TempSchema _schema = new();

    protected override IIdentityStore CreateStore(TimeProvider time) => new SqlIdentityStore(_schema.Open(), time);

    public void Dispose() => _schema.Dispose();
}

public sealed class PostgresUsageLedgerTests : UsageLedgerContractTests, IDisposable
{
    private readonly TempSchema _schema = new();

    protected override IUsageLedger CreateLedger() => new SqlUsageLedger(_schema.Open());

    public void Dispose() => _schema.Dispose();
}

public sealed class PostgresDubbingStoreTests : DubbingStoreContractTests, IDisposable
{
    private readonly TempSchema _schema = new();

    protected override IDubbingStore CreateStore() => new SqlDubbingStore(_schema.Open());

    public void Dispose() => _schema.Dispose();
}

public sealed class PostgresJobStoreTests : JobStoreContractTests, IDisposable
{
    private readonly TempSchema _schema = new();

    protected override IJobStore CreateStore(TimeProvider time) => new SqlJobStore(_schema.Open(), time);

    public void Dispose() => _schema.Dispose();
}

public sealed class PostgresPlatformStoreTests : PlatformStoreContractTests, IDisposable
{
    private readonly TempSchema _schema = new();

    protected override IPlatformStore CreateStore() => new SqlPlatformStore(_schema.Open());

    public void Dispose() => _schema.Dispose();
}

public sealed class PostgresAdminTokenStoreTests : AdminTokenStoreContractTests, IDisposable
{
    private readonly TempSchema _schema = new();

    protected override (IAdminTokenStore Tokens, IIdentityStore Identity) CreateStores(TimeProvider time)
    {
        var db = _schema.Open();
        return (new SqlAdminTokenStore(db), new SqlIdentityStore(db, time));
    }

    public void Dispose() => _schema.Dispose();
}

public sealed class PostgresRejectionStoreTests : RejectionStoreContractTests, IDisposable
{
    private readonly TempSchema _schema = new();

    protected override IRejectionStore CreateStore() => new SqlRejectionStore(_schema.Open());

    public void Dispose() => _schema.Dispose();
}
