using Tollgate.Cli.Commands;
using Tollgate.Client.Admin;

namespace Tollgate.Commands;

public sealed class ModelSpecTests
{
    [Theory]
    [InlineData("velma-2-stt-batch:concurrency=5,hours=10", "velma-2-stt-batch", 5, 10.0)]
    [InlineData("velma-2-emotion-batch:hours=0.5,concurrency=1", "velma-2-emotion-batch", 1, 0.5)]
    [InlineData("  velma-2-stt-streaming : concurrency = 2 , hours = 100  ", "velma-2-stt-streaming", 2, 100.0)]
    [InlineData("velma-2-stt-batch:Concurrency=3,HOURS=1e1", "velma-2-stt-batch", 3, 10.0)]
    public void TryParse_WellFormed_ReturnsModelAndLimits(string text, string model, int concurrency, double hours)
    {
        Assert.True(ModelSpec.TryParse(text, out var spec, out var error), error);
        Assert.Equal(new ModelSpec(model, new ModelLimits(concurrency, hours)), spec);
    }

    [Theory]
    [InlineData("velma-2-stt-batch:concurrency=5", "hours is required")]
    [InlineData("velma-2-stt-batch:hours=10", "concurrency is required")]
    [InlineData("velma-2-stt-batch:", "is not a setting")]
    [InlineData("velma-2-stt-batch", "expected <model>:concurrency=<n>,hours=<h>")]
    [InlineData("", "is not a model spec")]
    [InlineData(":concurrency=5,hours=10", "model name")]
    [InlineData("velma 2:concurrency=5,hours=10", "model name")]
    [InlineData("velma-2-stt-batch:concurrency=five,hours=10", "concurrency must be a whole number, not 'five'")]
    [InlineData("velma-2-stt-batch:concurrency=2.5,hours=10", "concurrency must be a whole number")]
    [InlineData("velma-2-stt-batch:concurrency=5,hours=ten", "hours must be a number")]
    [InlineData("velma-2-stt-batch:concurrency=5,hours=NaN", "hours must be a number")]
    [InlineData("velma-2-stt-batch:concurrency=5,hours=10,burst=3", "unknown setting 'burst'")]
    [InlineData("velma-2-stt-batch:concurrency=5,concurrency=6,hours=10", "concurrency is given twice")]
    [InlineData("velma-2-stt-batch:concurrency=5,,hours=10", "is not a setting")]
    [InlineData("velma-2-stt-batch:concurrency=,hours=10", "'concurrency=' is not a setting")]
    [InlineData("velma-2-stt-batch:concurrency 5,hours=10", "'concurrency 5' is not a setting")]
    public void TryParse_Malformed_SaysWhy(string text, string expected)
    {
        Assert.False(ModelSpec.TryParse(text, out var spec, out var error));
        Assert.Null(spec);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void TryParse_UsesInvariantCulture_CommaIsNotADecimalSeparator()
    {
        // "hours=0,5" splits into "hours=0" and "5": the stray "5" is reported, never read as 0.5.
        Assert.False(ModelSpec.TryParse("velma-2-stt-batch:concurrency=1,hours=0,5", out _, out var error));
        Assert.Contains("'5' is not a setting", error);
    }

    [Fact]
    public void TryParse_LeavesRangesToTheServer()
    {
        Assert.True(ModelSpec.TryParse("velma-2-stt-batch:concurrency=0,hours=-1", out var spec, out _));
        Assert.Equal(new ModelLimits(0, -1), spec.Limits);
    }

    [Fact]
    public void TryParseAll_SeveralModels_BuildsTheModelsObject()
    {
        Assert.True(ModelSpec.TryParseAll(
            ["velma-2-stt-batch:concurrency=5,hours=10", "velma-2-emotion-batch:concurrency=1,hours=2.5"], out var models, out var error), error);
        Assert.Equal(2, models.Count);
        Assert.Equal(new ModelLimits(5, 10), models["velma-2-stt-batch"]);
        Assert.Equal(new ModelLimits(1, 2.5), models["velma-2-emotion-batch"]);
    }

    [Fact]
    public void TryParseAll_SameModelTwice_IsAnError()
    {
        Assert.False(ModelSpec.TryParseAll(
            ["velma-2-stt-batch:concurrency=5,hours=10", "velma-2-stt-batch:concurrency=1,hours=1"], out var models, out var error));
        Assert.Null(models);
        Assert.Contains("velma-2-stt-batch is given twice", error);
    }

    [Fact]
    public void TryParseAll_None_IsAnError()
    {
        Assert.False(ModelSpec.TryParseAll([], out _, out var error));
        Assert.Contains("At least one --model", error);
    }
}
