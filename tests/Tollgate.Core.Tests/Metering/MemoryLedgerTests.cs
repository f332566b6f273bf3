namespace Tollgate.Metering;

/// <summary>The in-memory ledger other tests seed meters from keeps the ledger's contract too.</summary>
public sealed class MemoryLedgerTests : UsageLedgerContractTests
{
    protected override IUsageLedger CreateLedger() => new MemoryLedger();
}
