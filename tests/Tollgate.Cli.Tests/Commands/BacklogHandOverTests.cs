using Tollgate.Cli;
using Tollgate.Cli.Commands;
using Tollgate.Cli.Output;
using Tollgate.Client;
using Tollgate.Client.Behavior;

namespace Tollgate.Commands;

/// <summary>
/// <c>process --concurrency n</c> keeps the gate's n slots busy while finished files' results are written: a slot
/// freed by an answer is taken by the next file at once, not after its worker has written, synced and renamed the result.
/// </summary>
public sealed class BacklogHandOverTests : IDisposable
{
    private const string Model = "velma-2-stt-batch";
    private readonly string _root = Directory.CreateTempSubdirectory("tollgate-backlog-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task WithAConcurrency_WhileTheAnsweredFilesResultsAreBeingWritten_TheNextFilesHoldTheSlots()
    {
        const int concurrency = 2;
        var behavior = new TollgateClientBehavior(new TollgateClientOptions { BaseAddress = new Uri("http://127.0.0.1:5080/"), MaxConcurrency = concurrency });
        var gate = behavior.Gate(Model);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var items = Enumerable.Range(0, 8).Select(i =>
        {
            var input = Path.Combine(_root, $"f{i}.wav");
            File.WriteAllBytes(input, [0]);
            return new BacklogItem(new FileInfo(input), Path.Combine(_root, "out", $"f{i}.wav.json"));
        }).ToList();
        var stdout = new StringWriter();
        var backlog = new Backlog(new CliContext(stdout, new StringWriter(), null, _ => null), new CliOutput(stdout, json: true), "processed");

        var run = backlog.RunAsync(items, ProcessCommand.Workers(concurrency), behavior, async (item, partial, ct) =>
        {
            // The request: a slot of the client's gate, freed when the answer is in. The first files are answered at once,
            // then their results' writes are held; the next files' requests stay in flight meanwhile.
            int n;
            using (await gate.EnterAsync(ct))
            {
                n = Interlocked.Increment(ref started);
                if (n > concurrency)
                {
                    await release.Task;
                }
            }
            if (n <= concurrency)
            {
                await release.Task;
            }
            await File.WriteAllTextAsync(partial, "{}", ct);
            return new BacklogOutcome(null, null);
        }, CancellationToken.None);

        for (var i = 0; i < 1000 && Volatile.Read(ref started) < 2 * concurrency; i++)
        {
            await Task.Delay(10);
        }
        var (sent, inFlight) = (Volatile.Read(ref started), gate.InFlight);
        release.SetResult();

        Assert.Equal(ExitCodes.Ok, await run);
        // While the first files' results were written, as many more were sent and held every slot.
        Assert.Equal((2 * concurrency, concurrency), (sent, inFlight));
        Assert.Equal(8, Directory.GetFiles(Path.Combine(_root, "out"), "*.json").Length);
    }
}
