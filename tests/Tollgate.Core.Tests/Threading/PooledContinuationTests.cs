namespace Tollgate.Threading;

public sealed class PooledContinuationTests
{
    private static ValueTask<string> Map(ValueTask<int> source, string prefix,
        Func<string, Exception, ValueTask<string>>? recover = null) =>
        PooledContinuation<int, string, string>.Start(source, prefix, static (p, value) => p + value, recover);

    [Fact]
    public async Task Pending_CompletesWithTheMappedValue_WhenTheSourceDoes()
    {
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var mapped = Map(new ValueTask<int>(source.Task), "n=");
        Assert.False(mapped.IsCompleted);

        source.SetResult(42);

        Assert.Equal("n=42", await mapped);
    }

    [Fact]
    public async Task AlreadyCompletedSource_IsMappedToo()
    {
        Assert.Equal("n=7", await Map(new ValueTask<int>(7), "n="));
        Assert.Equal("n=8", await Map(new ValueTask<int>(Task.FromResult(8)), "n="));
    }

    [Fact]
    public async Task ManyInFlight_EachGetsItsOwnResult_AcrossReuse()
    {
        for (var round = 0; round < 3; round++)
        {
            var sources = Enumerable.Range(0, 100).Select(_ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
            var mapped = sources.Select((s, i) => Map(new ValueTask<int>(s.Task), $"{round}:").AsTask()).ToArray();
            for (var i = sources.Length - 1; i >= 0; i--)
            {
                sources[i].SetResult(i);
            }
            var results = await Task.WhenAll(mapped);
            Assert.Equal(Enumerable.Range(0, 100).Select(i => $"{round}:{i}"), results);
        }
    }

    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task TheMap_RunsInTheStartersExecutionContext()
    {
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Ambient.Value = "request 1";
        var mapped = PooledContinuation<int, string, string>.Start(new ValueTask<int>(source.Task), "", static (_, value) => Ambient.Value + ": " + value);
        Ambient.Value = null;

        source.SetResult(5);

        Assert.Equal("request 1: 5", await mapped);
    }

    [Fact]
    public async Task SourceFailure_IsTheResult_WithoutRecover()
    {
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var mapped = Map(new ValueTask<int>(source.Task), "n=");

        source.SetException(new InvalidOperationException("lost"));

        Assert.Equal("lost", (await Assert.ThrowsAsync<InvalidOperationException>(async () => await mapped)).Message);
    }

    [Fact]
    public async Task MapFailure_IsTheResult()
    {
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var mapped = PooledContinuation<int, string, string>.Start(new ValueTask<int>(source.Task), "x",
            static (_, _) => throw new FormatException("bad reply"));

        source.SetResult(1);
        await Assert.ThrowsAsync<FormatException>(async () => await mapped);
    }

    [Fact]
    public async Task SourceFailure_Recovered_ByAValue_OrAWait_OrAnotherException()
    {
        var failing = () => new ValueTask<int>(Task.FromException<int>(new TimeoutException("slow")));

        Assert.Equal("recovered from slow", await Map(failing(), "n=", static (_, ex) => new ValueTask<string>("recovered from " + ex.Message)));

        var later = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = Map(failing(), "n=", (_, _) => new ValueTask<string>(later.Task));
        Assert.False(waiting.IsCompleted);
        later.SetResult("sent again");
        Assert.Equal("sent again", await waiting);

        var refused = Map(failing(), "n=", static (_, ex) => ValueTask.FromException<string>(new IOException("gone", ex)));
        var thrown = await Assert.ThrowsAsync<IOException>(async () => await refused);
        Assert.IsType<TimeoutException>(thrown.InnerException);

        var thrownByRecover = Map(failing(), "n=", static (_, _) => throw new ArgumentException("no"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await thrownByRecover);
    }
}
