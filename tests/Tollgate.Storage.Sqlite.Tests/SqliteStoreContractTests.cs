using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Metering;
using Tollgate.Storage.Sqlite.Dubbing;
using Tollgate.Storage.Sqlite.Identity;
using Tollgate.Storage.Sqlite.Metering;

namespace Tollgate.Storage.Sqlite;

// The contracts of Tollgate.Testing, against the SQLite stores on a real file per test.

public sealed class SqliteIdentityStoreTests : IdentityStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IIdentityStore CreateStore(TimeProvider time) => new SqliteIdentityStore(_file.Open(), time);

    public void Dispose() => _file.Dispose();
}

public sealed class SqliteUsageLedgerTests : UsageLedgerContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IUsageLedger CreateLedger() => new SqliteUsageLedger(_file.Open());

    public void Dispose() => _file.Dispose();
}

public sealed class SqliteDubbingStoreTests : DubbingStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override IDubbingStore CreateStore() => new SqliteDubbingStore(_file.Open());

    public void Dispose() => _file.Dispose();
}

public sealed class SqlitePlatformStoreTests : Tollgate.Platform.PlatformStoreContractTests, IDisposable
{
    private readonly TempStore _file = new();

    protected override Tollgate.Platform.IPlatformStore CreateStore() => new Platform.SqlitePlatformStore(_file.Open());

    public void Dispose() => _file.Dispose();
}
