using Microsoft.Extensions.Logging.Abstractions;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.RateLimiting;

namespace Tollgate.Distributed.Redis;

/// <summary>The window counter contract, on a real Redis.</summary>
public sealed class RedisWindowCounterTests : WindowCounterContractTests
{
    protected override IWindowCounter CreateCounter(TimeProvider time) => new RedisWindowCounter(TestRedis.Connection, TestRedis.NewKeys(), time);
}

/// <summary>The lease table contract, on a real Redis.</summary>
public sealed class RedisLeaseTableTests : LeaseTableContractTests
{
    protected override ILeaseTable CreateTable(TimeProvider time) =>
        new RedisLeaseTable(TestRedis.Connection, TestRedis.NewKeys(), time, NullLogger<RedisLeaseTable>.Instance);
}

/// <summary>The quota meter contract, on a real Redis.</summary>
public sealed class RedisQuotaMeterTests : QuotaMeterContractTests
{
    protected override IQuotaMeter CreateMeter(IUsageLedger ledger) =>
        new RedisQuotaMeter(TestRedis.Connection, TestRedis.NewKeys(), ledger, TimeProvider.System, TimeSpan.FromSeconds(30),
            NullLogger<RedisQuotaMeter>.Instance);
}
