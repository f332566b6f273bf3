using System.Diagnostics;
using System.Globalization;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Models;

namespace Tollgate.Benchmarks.Load;

/// <summary>
/// <c>backlog --url &lt;url&gt; --admin-token &lt;token&gt; [--files 1000] [--concurrency 5] [--seconds 0.5] [--warmup-files 500]
/// [--server-pid &lt;pid&gt;] [--alloc-socket &lt;path&gt;]</c>: a backlog of small WAV files through the SDK against a running
/// Tollgate server (<c>SCENARIOS=backlog bench/load.sh</c> starts one on core 0, with <c>Tollgate__RateLimits__Headers=Both</c>,
/// and runs this on core 1). Each client gets a fresh key, made through the Admin API, whose concurrency limit is
/// <c>--concurrency</c>. In the same run: a warm-up backlog of <c>--warmup-files</c> through the gated client (the
/// server's JIT; not reported), the service time of one request alone (45 in a row), then the gated SDK client (gate
/// learned from the server, 32 workers feeding it) and a naive client (every file at once, <c>Task.WhenAll</c>-style,
/// retries on, no gate). One line per client, <c>key=value</c>:
/// <list type="bullet">
/// <item><c>ratio</c>: files/s ÷ the limit-bound maximum, concurrency ÷ the median service time of that client's
/// answered requests (on the wire: from the transport's send to the answer's last byte, outside the gate and the
/// waits), as issue 16 defines it;</item>
/// <item><c>ratio_mean</c>: files/s ÷ (concurrency ÷ the mean service time), what a client that never leaves a slot
/// empty reaches (Little's law: throughput = requests in flight ÷ mean service time). <c>ratio</c> is
/// <c>ratio_mean × mean_ms / median_ms</c>: a right-skewed service time (mean above median) keeps <c>ratio</c> below 1
/// however well the slots are kept busy;</item>
/// <item>(gated only) <c>occupancy</c>: time on the wire of every attempt ÷ (concurrency × elapsed), 1.0 when a slot
/// is never empty; <c>handover_p50_us</c> / <c>handover_p99_us</c>: how long a freed slot stayed empty, from one
/// answer's last byte to the next request's send, pairing the i-th answer with the (i + concurrency)-th send;</item>
/// <item>429s (received, absorbed or not) and per 1,000 files, files failed after the retries;</item>
/// <item>the server's CPU µs and GC bytes per file (<c>--server-pid</c>, <c>--alloc-socket</c>), and how busy each core
/// was: <c>server_core</c> (the server's CPU ÷ elapsed) and <c>client_core</c> (this process's).</item>
/// </list>
/// </summary>
public static class BacklogScenario
{
    private const string Model = "velma-2-stt-batch";

    /// <summary>Callers feeding the gated client: enough that the gate always has a waiter when a slot frees.</summary>
    private const int GatedWorkers = 32;

    public static async Task<int> RunAsync(string[] args)
    {
        if (Arg<string>(args, "--url", null) is not { } server || Arg<string>(args, "--admin-token", null) is not { } adminToken)
        {
            Console.Error.WriteLine("usage: backlog --url <url> --admin-token <token> [--files 1000] [--concurrency 5] [--seconds 0.5] [--warmup-files 500] [--server-pid <pid>] [--alloc-socket <path>]");
            return 2;
        }
        var url = new Uri(server.TrimEnd('/') + "/");
        var files = Arg(args, "--files", 1000);
        var concurrency = Arg(args, "--concurrency", 5);
        var seconds = Arg(args, "--seconds", 0.5);
        var warmup = Arg(args, "--warmup-files", 500);
        var probe = new ServerProbe(Arg(args, "--server-pid", 0), Arg<string>(args, "--alloc-socket", null));
        var audio = Wav(seconds);
        var hours = Math.Max(files, warmup) * 3 * seconds / 3600 + 1;
        async Task<string> Key() => await KeyAsync(url, adminToken, concurrency, hours);

        if (warmup > 0)
        {
            await RunBacklogAsync(url, await Key(), audio, warmup, maxConcurrency: null, workers: GatedWorkers, concurrency, probe);
        }
        var alone = await RunBacklogAsync(url, await Key(), audio, 45, maxConcurrency: 1, workers: 1, concurrency: 1, probe);
        var gated = await RunBacklogAsync(url, await Key(), audio, files, maxConcurrency: null, workers: GatedWorkers, concurrency, probe);
        var naive = await RunBacklogAsync(url, await Key(), audio, files, maxConcurrency: files, workers: files, concurrency, probe);

        Console.WriteLine(Invariant($"client=alone median_ms={alone.Median.TotalMilliseconds:0.00} mean_ms={alone.Mean.TotalMilliseconds:0.00} server_cpu_us_per_file={alone.ServerCpuPerFile * 1e6:0}"));
        foreach (var (name, r) in new[] { ("sdk", gated), ("naive", naive) })
        {
            var bound = concurrency / r.Median.TotalSeconds;
            var busyBound = concurrency / r.Mean.TotalSeconds;
            Console.WriteLine(Invariant(
                $"client={name} files_per_s={r.Throughput:0.0} bound_files_per_s={bound:0.0} ratio={r.Throughput / bound:0.00} ") +
                Invariant($"bound_mean_files_per_s={busyBound:0.0} ratio_mean={r.Throughput / busyBound:0.00} ") +
                (r.Gate is { } g ? Invariant($"occupancy={g.Occupancy:0.00} ") : "") +
                Invariant($"median_ms={r.Median.TotalMilliseconds:0.00} mean_ms={r.Mean.TotalMilliseconds:0.00} p99_ms={r.P99.TotalMilliseconds:0.00} ") +
                (r.Gate is { } h ? Invariant($"handover_p50_us={h.HandOverP50:0} handover_p99_us={h.HandOverP99:0} ") : "") + Invariant(
                $"failed={r.Failed} http_429={r.RateLimited} http_429_per_1000_files={r.RateLimited * 1000.0 / files:0} ") + Invariant(
                $"server_cpu_us_per_file={r.ServerCpuPerFile * 1e6:0} server_bytes_per_file={r.ServerBytesPerFile:0} server_core={r.ServerCore:0.00} client_core={r.ClientCore:0.00}"));
        }
        return 0;
    }

    private sealed record Result(
        double Throughput, int Failed, long RateLimited, TimeSpan Median, TimeSpan Mean, TimeSpan P99, GateUse? Gate,
        double ServerCpuPerFile, double ServerBytesPerFile, double ServerCore, double ClientCore);

    /// <summary>How well a gated client kept its slots busy (see the class summary); not defined without a gate.</summary>
    private sealed record GateUse(double Occupancy, double HandOverP50, double HandOverP99);

    /// <summary>
    /// Times each attempt on the wire (the transport's send to the answer's last byte), under the SDK's gate, retries and
    /// waits; keeps every attempt's start and end (for occupancy and hand-over) and the answered ones' durations.
    /// </summary>
    private sealed class Timing() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly List<(long Start, long End, bool Answered)> _attempts = [];

        public List<(long Start, long End, bool Answered)> Attempts()
        {
            lock (_attempts)
            {
                return [.. _attempts];
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var start = Stopwatch.GetTimestamp();
            var response = await base.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                // Answered: the slot is the server's until the last byte. A 429 costs the server nothing and says
                // nothing of its service time; it is kept for the time on the wire only.
                await response.Content.LoadIntoBufferAsync(cancellationToken);
            }
            var end = Stopwatch.GetTimestamp();
            lock (_attempts)
            {
                _attempts.Add((start, end, response.IsSuccessStatusCode));
            }
            return response;
        }
    }

    /// <summary>The server's CPU (its /proc stat) and GC-allocated bytes (the startup hook's socket), when given.</summary>
    private sealed record ServerProbe(int Pid, string? AllocSocket)
    {
        public (double Cpu, long Bytes) Read() => (LoadGenerator.ServerCpuSeconds(Pid), StartupHook.Read(AllocSocket));
    }

    private static async Task<Result> RunBacklogAsync(
        Uri url, string key, byte[] audio, int files, int? maxConcurrency, int workers, int concurrency, ServerProbe probe)
    {
        var timing = new Timing();
        var options = new TollgateClientOptions { BaseAddress = url, ApiKey = key, MaxConcurrency = maxConcurrency };
        using var client = new TollgateModelsClient(options, null, timing);
        var failed = 0;
        var (serverCpu, serverBytes) = probe.Read();
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, files), new ParallelOptions { MaxDegreeOfParallelism = workers }, async (i, ct) =>
        {
            try
            {
                using var answer = await client.PostBatchAsync(Model, new MemoryStream(audio), $"f{i}.wav", cancellationToken: ct);
            }
            catch (TollgateApiException)
            {
                Interlocked.Increment(ref failed);
            }
        });
        var elapsed = watch.Elapsed.TotalSeconds;
        var (serverCpuAfter, serverBytesAfter) = probe.Read();
        var clientCpuAfter = Process.GetCurrentProcess().TotalProcessorTime;

        var attempts = timing.Attempts();
        var answered = attempts.Where(a => a.Answered).Select(a => Stopwatch.GetElapsedTime(a.Start, a.End)).Order().ToList();
        return new Result(
            files / elapsed,
            failed,
            client.Behavior!.Statistics.RateLimited,
            answered.Count == 0 ? TimeSpan.Zero : answered[answered.Count / 2],
            answered.Count == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)answered.Average(t => t.Ticks)),
            answered.Count == 0 ? TimeSpan.Zero : answered[Math.Min(answered.Count - 1, (int)(answered.Count * 0.99))],
            maxConcurrency is null ? Use(attempts, concurrency, elapsed) : null,
            (serverCpuAfter - serverCpu) / files,
            serverBytes < 0 ? 0 : (double)(serverBytesAfter - serverBytes) / files,
            (serverCpuAfter - serverCpu) / elapsed,
            (clientCpuAfter - clientCpu).TotalSeconds / elapsed);
    }

    /// <summary>
    /// The occupancy of the slots (time on the wire ÷ (concurrency × elapsed)) and how long a freed slot stays empty, in
    /// µs (median, p99). With at most <paramref name="concurrency"/> attempts on the wire, the (i + concurrency)-th send
    /// cannot come before the i-th answer: it is the request that took that slot. While the gate has waiters (the whole
    /// run but its last <paramref name="concurrency"/> answers) the gap is the hand-over.
    /// </summary>
    private static GateUse? Use(List<(long Start, long End, bool Answered)> attempts, int concurrency, double elapsed)
    {
        var onWire = attempts.Sum(a => Stopwatch.GetElapsedTime(a.Start, a.End).TotalSeconds);
        var starts = attempts.Select(a => a.Start).Order().ToArray();
        var ends = attempts.Select(a => a.End).Order().ToArray();
        var gaps = Enumerable.Range(0, Math.Max(0, starts.Length - concurrency))
            .Select(i => Stopwatch.GetElapsedTime(ends[i], starts[i + concurrency]).TotalMicroseconds)
            .Order()
            .ToArray();
        return gaps.Length == 0 ? null : new GateUse(onWire / (concurrency * elapsed), gaps[gaps.Length / 2], gaps[Math.Min(gaps.Length - 1, (int)(gaps.Length * 0.99))]);
    }

    private static async Task<string> KeyAsync(Uri url, string adminToken, int concurrency, double hours)
    {
        using var admin = new TollgateAdminClient(url, adminToken);
        var org = await admin.CreateOrganizationAsync("backlog bench");
        var user = await admin.CreateUserAsync(org.Id, "bench");
        return (await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, ModelLimits> { [Model] = new(concurrency, hours) })).Key;
    }

    private static byte[] Wav(double seconds)
    {
        const int rate = 16_000;
        var samples = (int)(seconds * rate);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write("RIFF"u8);
            writer.Write(36 + samples * 2);
            writer.Write("WAVEfmt "u8);
            writer.Write(16);
            writer.Write((short)1);
            writer.Write((short)1);
            writer.Write(rate);
            writer.Write(rate * 2);
            writer.Write((short)2);
            writer.Write((short)16);
            writer.Write("data"u8);
            writer.Write(samples * 2);
            for (var i = 0; i < samples; i++)
            {
                writer.Write((short)(8000 * Math.Sin(2 * Math.PI * 440 * i / rate)));
            }
        }
        return stream.ToArray();
    }

    private static T? Arg<T>(string[] args, string name, T? fallback) where T : IParsable<T>
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? T.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
