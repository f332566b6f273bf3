using BenchmarkDotNet.Running;
using Tollgate.Benchmarks.Load;

namespace Tollgate.Benchmarks;

public static class Program
{
    /// <summary>
    /// BenchmarkDotNet's switcher, plus the modes for the load runs of <c>bench/load.sh</c>:
    /// <c>load &lt;url&gt; [options]</c> (the load generator) and <c>bare-server --urls &lt;url&gt;</c> (the baseline endpoint) and
    /// <c>pipeline-server --urls &lt;url&gt;</c> (Tollgate with an admission-only endpoint) and
    /// <c>yarp-server --urls &lt;url&gt; --upstream &lt;url&gt;</c> (plain YARP in front of a model server) and
    /// <c>ws-latency &lt;ws-url&gt;</c> (the WebSocket relay's per-frame latency, <see cref="FrameLatency"/>) and
    /// <c>backlog --url &lt;url&gt; --admin-token &lt;token&gt;</c> (a backlog through the SDK against a running server, <see cref="BacklogScenario"/>).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "load":
                return await LoadGenerator.RunAsync(args[1..]);
            case "ws-latency":
                return await FrameLatency.RunAsync(args[1..]);
            case "backlog":
                return await BacklogScenario.RunAsync(args[1..]);
            case "pipeline-server":
                await PipelineServer.RunAsync(args[1..]);
                return 0;
            case "bare-server":
                await BareServer.RunAsync(args[1..]);
                return 0;
            case "yarp-server":
                await YarpServer.RunAsync(args[1..]);
                return 0;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }
}
