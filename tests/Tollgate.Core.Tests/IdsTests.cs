namespace Tollgate;

public sealed class IdsTests
{
    [Fact]
    public void ANewId_IsItsPrefix_AndEightyRandomBitsInLowerHex()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => Ids.New("dub")).ToList();
        Assert.All(ids, id => Assert.Matches("^dub_[0-9a-f]{20}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void AnOrderedId_IsItsPrefix_AndAVersion7Guid()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => Ids.NewOrdered("req")).ToList();
        Assert.All(ids, id => Assert.Matches("^req_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void StoredTimes_DropWhatIsBelowTheMillisecond_InUtc()
    {
        var at = new DateTimeOffset(2026, 11, 23, 14, 0, 0, 123, TimeSpan.FromHours(2)).AddTicks(4_567);
        var stored = Timestamps.ToMillisecond(at);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 12, 0, 0, 123, TimeSpan.Zero), stored);
        Assert.Equal(TimeSpan.Zero, stored.Offset);
    }
}
