using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Tollgate.Client.Models;
using Tollgate.Infrastructure;

namespace Tollgate.Client.Behavior;

/// <summary>
/// A freed slot is handed to the next waiter at once: its request is under way before the request that freed the slot
/// carries on (reads its answer, returns to its caller), not queued behind it. Each test runs on the pool (no
/// synchronization context), as the SDK's requests do.
/// </summary>
public sealed class GateHandOverTests
{
    private const string Model = "velma-2-stt-batch";

    [Fact]
    public Task Dispose_GivesTheSlotToTheNextWaiter_WhoHoldsItWhenDisposeReturns() => Task.Run(async () =>
    {
        var gate = new ConcurrencyGate(1);
        var held = await gate.EnterAsync(default);
        var next = gate.EnterAsync(default);
        Assert.Equal(1, gate.Waiting);

        held.Dispose();

        Assert.True(next.IsCompletedSuccessfully, "the waiter went on inside Dispose");
        Assert.Equal((1, 0), (gate.InFlight, gate.Waiting));
        (await next).Dispose();
        Assert.Equal(0, gate.InFlight);
    });

    [Fact]
    public Task ARunOfWaitersThatFreeTheirSlotAtOnce_AllGetThrough_WithoutNestingOnOneStack() => Task.Run(async () =>
    {
        var gate = new ConcurrencyGate(1);
        var held = await gate.EnterAsync(default);
        // Each frees its slot as soon as it has it: handed over inline one inside the other, 20,000 would overflow the stack.
        var waiters = Enumerable.Range(0, 20_000).Select(async _ =>
        {
            using var slot = await gate.EnterAsync(default);
        }).ToList();

        held.Dispose();

        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((0, 0), (gate.InFlight, gate.Waiting));
    });

    [Fact]
    public Task AnAnswer_TheNextFilesRequestIsSent_BeforeTheFirstCallReturnsToItsCaller() => Task.Run(async () =>
    {
        var order = new ConcurrentQueue<string>();
        var transport = new HeldTransport(order);
        var options = new TollgateClientOptions { BaseAddress = new Uri("http://127.0.0.1:5080/"), ApiKey = "k", MaxConcurrency = 1 };
        using var client = new TollgateModelsClient(options, null, transport);
        var audio = TestAudio.Wav(0.1);
        async Task Call(string name)
        {
            using var answer = await client.PostBatchAsync(Model, new MemoryStream(audio), name + ".wav");
            order.Enqueue(name + " returned");
        }

        var first = Call("first");
        var firstAnswer = await transport.Requests.Reader.ReadAsync();
        var second = Call("second");
        while (client.Behavior!.Gate(Model).Waiting == 0)
        {
            await Task.Delay(5);
        }

        firstAnswer.SetResult(Ok());
        await first;
        (await transport.Requests.Reader.ReadAsync()).SetResult(Ok());
        await second;

        Assert.Equal(["first sent", "second sent", "first returned", "second returned"], order);
    });

    private static HttpResponseMessage Ok() => new(HttpStatusCode.OK) { Content = new StringContent("""{"text": ""}""", Encoding.UTF8, "application/json") };

    /// <summary>Records each request as sent and holds it until the test answers it.</summary>
    private sealed class HeldTransport(ConcurrentQueue<string> order) : HttpMessageHandler
    {
        private int _sent;

        public Channel<TaskCompletionSource<HttpResponseMessage>> Requests { get; } = Channel.CreateUnbounded<TaskCompletionSource<HttpResponseMessage>>();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            order.Enqueue(Interlocked.Increment(ref _sent) == 1 ? "first sent" : "second sent");
            var answer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            Requests.Writer.TryWrite(answer);
            var response = await answer.Task;
            response.RequestMessage = request;
            return response;
        }
    }
}
