using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;

namespace Tollgate.Benchmarks.Load;

/// <summary>
/// The WebSocket relay's per-frame latency: <c>ws-latency &lt;ws-url&gt; [--connections 8] [--warmup 10] [--seconds 15]</c>.
/// Each connection is a real-time audio stream: a 640-byte binary frame (20 ms of 16 kHz s16le) every 20 ms, its first
/// 8 bytes a sequence number; the model server (<c>bare-server</c>'s WebSocket <c>/api/{model}</c>) echoes every binary
/// frame, and the time from sending a frame to receiving its echo is one sample. Prints
/// <c>frames=… p50_ms=… p99_ms=… max_ms=… cpu_us_per_frame=… bytes_per_frame=… errors=…</c> (CPU and bytes of
/// <c>--server-pid</c> / <c>--alloc-socket</c>, per frame relayed both ways). The same run against the model server
/// directly, plain YARP and Tollgate gives what each hop adds.
/// </summary>
public static class FrameLatency
{
    private const int FrameBytes = 640;
    private static readonly TimeSpan FrameInterval = TimeSpan.FromMilliseconds(20);

    public static async Task<int> RunAsync(string[] args)
    {
        var uri = new Uri(args[0]);
        var connections = Option(args, "--connections", 8);
        var warmup = TimeSpan.FromSeconds(Option(args, "--warmup", 10));
        var measure = TimeSpan.FromSeconds(Option(args, "--seconds", 15));
        var pid = Option(args, "--server-pid", 0);
        var socketPath = Array.IndexOf(args, "--alloc-socket") is var i and >= 0 ? args[i + 1] : null;

        var measuring = 0;
        var samples = new List<long>[connections];
        var errors = 0L;
        long cpuBefore = 0, allocatedBefore = 0;
        using var stop = new CancellationTokenSource(warmup + measure);
        var streams = Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            samples[c] = new List<long>(100_000);
            try
            {
                using var socket = new ClientWebSocket();
                await socket.ConnectAsync(uri, stop.Token);
                var sent = new long[1 << 16];
                var receiving = Task.Run(async () =>
                {
                    var buffer = new byte[64 * 1024];
                    while (true)
                    {
                        var result = await socket.ReceiveAsync(buffer, stop.Token);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }
                        if (result.MessageType != WebSocketMessageType.Binary || result.Count < 8)
                        {
                            continue;
                        }
                        var seq = BinaryPrimitives.ReadInt64LittleEndian(buffer);
                        var elapsed = Stopwatch.GetTimestamp() - sent[seq & 0xFFFF];
                        if (Volatile.Read(ref measuring) == 1)
                        {
                            samples[c].Add(elapsed);
                        }
                    }
                });
                var frame = new byte[FrameBytes];
                using var timer = new PeriodicTimer(FrameInterval);
                for (long seq = 0; await timer.WaitForNextTickAsync(stop.Token); seq++)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(frame, seq);
                    sent[seq & 0xFFFF] = Stopwatch.GetTimestamp();
                    await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, stop.Token);
                }
                await receiving;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is WebSocketException or IOException)
            {
                Interlocked.Increment(ref errors);
            }
        })).ToArray();
        await Task.Delay(warmup);
        var cpuStart = Cpu(pid);
        allocatedBefore = socketPath is null ? -1 : StartupHook.Read(socketPath);
        cpuBefore = cpuStart;
        Volatile.Write(ref measuring, 1);
        await Task.Delay(measure);
        Volatile.Write(ref measuring, 0);
        var cpu = Cpu(pid) - cpuBefore;
        var allocated = socketPath is null ? -1 : StartupHook.Read(socketPath) - allocatedBefore;
        await Task.WhenAll(streams);
        long[] all;
        lock (samples)
        {
            all = samples.Where(s => s is not null).SelectMany(s => s.ToArray()).Order().ToArray();
        }
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double Percentile(double p) => all.Length == 0 ? 0 : Ms(all[Math.Min(all.Length - 1, (int)(all.Length * p))]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"frames={all.Length} p50_ms={Percentile(0.50):0.000} p99_ms={Percentile(0.99):0.000} max_ms={(all.Length == 0 ? 0 : Ms(all[^1])):0.000} cpu_us_per_frame={(all.Length == 0 ? 0 : cpu * 1e4 / all.Length):0.0} bytes_per_frame={(all.Length == 0 || allocated < 0 ? 0 : (double)allocated / all.Length):0} errors={errors}"));
        return 0;
    }

    /// <summary>User + system CPU of a process in clock ticks (1/100 s).</summary>
    private static long Cpu(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
