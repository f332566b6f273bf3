using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Metering;
using Tollgate.Storage.Relational.Dubbing;
using Tollgate.Storage.Relational.Identity;
using Tollgate.Storage.Relational.Metering;

namespace Tollgate.Storage.Sqlite;

// The contracts of Tollgate.Testing, against the SQLite stores on a real file per test.

public sealed class SqlIdentityStoreTests : IdentityStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IIdentityStore CreateStore(TimeProvider time) => new SqlIdentityStore(_file.Open(), time);

    public void Dispose() => _file.Dispose();
}

public sealed class SqlUsageLedgerTests : UsageLedgerContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IUsageLedger CreateLedger() => new SqlUsageLedger(_file.Open());

    public void Dispose() => _file.Dispose();
}

public sealed class SqliteDubbingStoreTests : DubbingStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IDubbingStore CreateStore() => new SqlDubbingStore(_file.Open());

    public void Dispose() => _file.Dispose();
}

public sealed class SqlitePlatformStoreTests : Tollgate.Platform.PlatformStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override Tollgate.Platform.IPlatformStore CreateStore() => new Relational.Platform.SqlPlatformStore(_file.Open());

    public void Dispose() => _file.Dispose();
}

public sealed class SqliteAdminTokenStoreTests : AdminTokenStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override (IAdminTokenStore Tokens, IIdentityStore Identity) CreateStores(TimeProvider time)
    {
        var db = _file.Open();
        return (new SqlAdminTokenStore(db), new SqlIdentityStore(db, time));
    }

    public void Dispose() => _file.Dispose();
}

public sealed class SqliteRejectionStoreTests : RejectionStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IRejectionStore CreateStore() => new SqlRejectionStore(_file.Open());

    public void Dispose() => _file.Dispose();
}
