namespace Tollgate.Metering;

/// <summary>
/// What every <see cref="IRejectionStore"/> must do: inherit and implement <see cref="CreateStore"/>. Organizations
/// are fresh per test; the no-organization rows are told apart by a code fresh per test.
/// </summary>
public abstract class RejectionStoreContractTests
{
    private static readonly DateTimeOffset Ten = new(2026, 5, 20, 10, 0, 0, TimeSpan.Zero);

    private IRejectionStore? _store;

    protected IRejectionStore Store => _store ??= CreateStore();

    protected abstract IRejectionStore CreateStore();

    private static string NewOrg() => "org_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Counts_AddUpPerOrganizationHourStatusAndCode_AndListInOrder()
    {
        var org = NewOrg();
        await Store.AddAsync(
        [
            new(org, Ten.AddMinutes(59), 429, "rate_limited", 3),
            new(org, Ten, 401, "invalid_api_key", 1),
            new(org, Ten.AddHours(1), 429, "rate_limited", 2),
            new(NewOrg(), Ten, 401, "invalid_api_key", 7),
        ]);
        await Store.AddAsync([new(org, Ten.AddMinutes(5), 429, "rate_limited", 4), new(org, Ten, 403, "model_not_entitled", 1)]);

        Assert.Equal(
            [
                new RejectionCount(org, Ten, 401, "invalid_api_key", 1),
                new RejectionCount(org, Ten, 403, "model_not_entitled", 1),
                new RejectionCount(org, Ten, 429, "rate_limited", 7),
                new RejectionCount(org, Ten.AddHours(1), 429, "rate_limited", 2),
            ],
            await Store.ListAsync(org, Ten.AddHours(-3)));
        // From an hour on: that hour and later; a time inside an hour includes that hour.
        Assert.Equal([new RejectionCount(org, Ten.AddHours(1), 429, "rate_limited", 2)], await Store.ListAsync(org, Ten.AddHours(1)));
        Assert.Equal(4, (await Store.ListAsync(org, Ten.AddMinutes(30))).Count);
        Assert.Empty(await Store.ListAsync(NewOrg(), Ten));
        await Store.AddAsync([]);
    }

    [Fact]
    public async Task RequestsOfNoOrganization_CountApart_FromEveryOrganization()
    {
        var code = "invalid_api_key_" + Guid.NewGuid().ToString("N")[..8];
        var org = NewOrg();
        await Store.AddAsync([new(null, Ten, 401, code, 2), new(org, Ten, 401, code, 5)]);
        await Store.AddAsync([new(null, Ten.AddMinutes(1), 401, code, 1)]);
        Assert.Equal([new RejectionCount(null, Ten, 401, code, 3)], (await Store.ListAsync(null, Ten)).Where(r => r.Code == code));
        Assert.Equal([new RejectionCount(org, Ten, 401, code, 5)], await Store.ListAsync(org, Ten));
    }

    [Fact]
    public async Task ManyWritersAtOnce_AllAddUp()
    {
        var org = NewOrg();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                await Store.AddAsync([new(org, Ten, 429, "rate_limited", 1), new(org, Ten, 429, "concurrency_limit_exceeded", 2)]);
            }
        })));
        Assert.Equal(
            [new RejectionCount(org, Ten, 429, "concurrency_limit_exceeded", 80), new RejectionCount(org, Ten, 429, "rate_limited", 40)],
            await Store.ListAsync(org, Ten));
    }
}
