using Tollgate.Audio;

namespace Tollgate.Dubbing;

public sealed class DubbingRulesTests
{
    private static Dub ADub(DubStatus status, int? required = 3) => new()
    {
        Id = "dub_1", OrgId = "org", UserId = "user", Name = "talk", TargetLanguage = "es",
        Status = status, RequiredCredits = required, CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void TheLifecycle_AllowsOnlyTheDocumentedPath()
    {
        DubStatus[] path = [DubStatus.New, DubStatus.Preprocessing, DubStatus.Preprocessed, DubStatus.Queued, DubStatus.Starting,
            DubStatus.Processing, DubStatus.Finalizing, DubStatus.Done];
        for (var i = 0; i + 1 < path.Length; i++)
        {
            Assert.True(DubLifecycle.IsAllowed(path[i], path[i + 1]), $"{path[i]} → {path[i + 1]}");
        }
        foreach (var from in Enum.GetValues<DubStatus>())
        {
            foreach (var to in Enum.GetValues<DubStatus>())
            {
                var forward = Array.IndexOf(path, to) == Array.IndexOf(path, from) + 1 && Array.IndexOf(path, from) >= 0;
                var toError = to == DubStatus.Error && from is not (DubStatus.New or DubStatus.Preprocessed or DubStatus.Done or DubStatus.Error);
                var rerender = (from, to) == (DubStatus.Finalizing, DubStatus.Processing);
                Assert.Equal(forward || toError || rerender, DubLifecycle.IsAllowed(from, to));
            }
        }
    }

    [Theory]
    [InlineData(DubStatus.New, null)]
    [InlineData(DubStatus.Preprocessing, "already_preprocessed")]
    [InlineData(DubStatus.Preprocessed, "already_preprocessed")]
    [InlineData(DubStatus.Queued, "invalid_state")]
    [InlineData(DubStatus.Done, "invalid_state")]
    public void Preprocess_RunsOnceFromNew(DubStatus status, string? refusal) =>
        Assert.Equal(refusal, DubLifecycle.CanPreprocess(ADub(status))?.Code);

    [Theory]
    [InlineData(DubStatus.New, 100, "not_preprocessed")]
    [InlineData(DubStatus.Preprocessing, 100, "not_preprocessed")]
    [InlineData(DubStatus.Preprocessed, 3, null)]
    [InlineData(DubStatus.Preprocessed, 2, "insufficient_credits")]
    [InlineData(DubStatus.Processing, 100, "already_generated")]
    [InlineData(DubStatus.Error, 100, "invalid_state")]
    public void Generate_NeedsAPreprocessedDubAndTheCredits(DubStatus status, int creditsLeft, string? refusal) =>
        Assert.Equal(refusal, DubLifecycle.CanGenerate(ADub(status), creditsLeft)?.Code);

    [Theory]
    [InlineData(0, 1)] // at least one
    [InlineData(1, 1)]
    [InlineData(1000, 1)]
    [InlineData(1001, 2)]
    [InlineData(4200, 5)]
    public void ADubCostsOneCreditPerStartedSecond(long ms, int credits) => Assert.Equal(credits, DubbingCredits.For(ms));

    private static VoicePage Page(string? search = null, string[]? genres = null, string[]? languages = null, string[]? styles = null,
        int limit = 20, string? cursor = null) =>
        VoiceLibrary.Page(VoiceLibrary.Stock, new VoiceQuery(search, genres ?? [], languages ?? [], styles ?? [], limit, cursor));

    [Fact]
    public void TheLibrary_PagesEveryVoiceOnce_InIdOrder()
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = Page(limit: 3, cursor: cursor);
            ids.AddRange(page.Voices.Select(v => v.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(VoiceLibrary.Stock.Select(v => v.Id).Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public void TheLibrary_Filters_AndMatchesRegionalVariants()
    {
        Assert.Equal(["v_ada", "v_grace", "v_kiri"], Page(languages: ["en"]).Voices.Select(v => v.Id));
        Assert.Equal(["v_kiri"], Page(languages: ["EN"], styles: ["playful"]).Voices.Select(v => v.Id));
        Assert.Equal(["v_elena", "v_grace", "v_oskar"], Page(genres: ["conversational"], styles: ["friendly"]).Voices.Select(v => v.Id));
        Assert.Equal(["v_hiro", "v_kiri"], Page(search: "CHARACTER").Voices.Select(v => v.Id));
        var regional = VoiceLibrary.Stock[0] with { Language = "en-GB" };
        Assert.True(VoiceLibrary.SpeaksLanguage(regional, "en"));
        Assert.False(VoiceLibrary.SpeaksLanguage(VoiceLibrary.Stock[0], "en-GB"));
        Assert.False(VoiceLibrary.SpeaksLanguage(VoiceLibrary.Stock[0] with { Language = "eng" }, "en"));
    }

    [Theory]
    [InlineData("garbage!")]
    [InlineData("YWZ0ZXI6")] // "after:" with no id
    [InlineData("Zm9vOmJhcg")] // "foo:bar"
    public void ACursorThisLibraryDidNotIssue_IsRejected(string cursor) => Assert.False(VoiceLibrary.IsValidCursor(cursor));
}
