using System.Diagnostics;
using System.Globalization;

namespace Tollgate.Benchmarks.Load;

/// <summary>
/// A closed-loop HTTP load generator: <c>--connections</c> workers each send GET requests (POSTs of the file
/// <c>--body</c> as <c>--content-type</c>, when given) back to back for
/// <c>--warmup</c> seconds (not measured), then <c>--seconds</c> seconds (measured). Prints one line:
/// <c>rps=… p50_ms=… p99_ms=… cpu_us_per_req=… bytes_per_req=… errors=… status=…</c> (CPU from <c>--server-pid</c>'s
/// /proc stat, bytes from the server's GC through <c>--alloc-socket</c>, see <see cref="StartupHook"/>). Run it pinned
/// to a core the server does not use. Several nodes: each <c>--also URL</c> adds a target (worker <c>i</c> sends to
/// target <c>i mod n</c>, a round robin by connection), and <c>--server-pid</c> / <c>--alloc-socket</c> may be
/// repeated (the figures are the sum over the nodes). With <c>--redis HOST:PORT</c> it also reads Redis's
/// <c>INFO commandstats</c> before and after the measured window and prints <c>redis_scripts_per_req</c> (EVAL/EVALSHA
/// calls: Tollgate's decisions are one script each, one round trip) and <c>redis_cmds_per_req</c> (every command Redis
/// ran, the commands inside the scripts included; the load generator's own INFO calls left out).
/// </summary>
public static class LoadGenerator
{
    public static async Task<int> RunAsync(string[] args)
    {
        var urls = args.Take(1).Concat(Options(args, "--also")).Select(u => new Uri(u)).ToArray();
        var connections = Option(args, "--connections", 32);
        var warmup = TimeSpan.FromSeconds(Option(args, "--warmup", 40));
        var measure = TimeSpan.FromSeconds(Option(args, "--seconds", 20));
        var headers = args.Select((a, i) => (a, i)).Where(p => p.a == "--header").Select(p => args[p.i + 1].Split(':', 2)).ToList();

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var header in headers)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation(header[0].Trim(), header[1].Trim());
        }

        var serverPids = Options(args, "--server-pid").Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var body = StringOption(args, "--body") is { } path ? await File.ReadAllBytesAsync(path) : null;
        var contentType = StringOption(args, "--content-type") ?? "application/octet-stream";
        Func<int, Task<HttpResponseMessage>> send = body is null
            ? worker => client.GetAsync(urls[worker % urls.Length], HttpCompletionOption.ResponseContentRead)
            : worker =>
            {
                var content = new ByteArrayContent(body);
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                return client.PostAsync(urls[worker % urls.Length], content);
            };
        await RunPhaseAsync(send, connections, warmup, record: null);
        var allocSockets = Options(args, "--alloc-socket").ToArray();
        var redis = StringOption(args, "--redis");
        var cpuBefore = serverPids.Sum(ServerCpuSeconds);
        var allocatedBefore = AllocatedBytes(allocSockets);
        var redisBefore = redis is null ? default : RedisCommands(redis);
        var samples = new List<long>[connections];
        var statuses = new Dictionary<int, long>();
        var errors = 0L;
        var clock = Stopwatch.StartNew();
        await RunPhaseAsync(send, connections, measure, record: (worker, ticks, status) =>
        {
            if (status < 0)
            {
                Interlocked.Increment(ref errors);
                return;
            }
            (samples[worker] ??= new List<long>(100_000)).Add(ticks);
            lock (statuses)
            {
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
        });
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpu = serverPids.Sum(ServerCpuSeconds) - cpuBefore;
        var redisAfter = redis is null ? default : RedisCommands(redis);
        var (redisScripts, redisCommands) = (redisAfter.Scripts - redisBefore.Scripts, redisAfter.All - redisBefore.All);
        var allocated = allocatedBefore < 0 ? -1 : AllocatedBytes(allocSockets) - allocatedBefore;
        var all = samples.Where(s => s is not null).SelectMany(s => s).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(all.Length * p))] * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rps={all.Length / elapsed:0} p50_ms={Percentile(0.50):0.000} p99_ms={Percentile(0.99):0.000} cpu_us_per_req={(all.Length == 0 ? 0 : cpu * 1e6 / all.Length):0.0} bytes_per_req={(all.Length == 0 || allocated < 0 ? 0 : (double)allocated / all.Length):0} errors={errors} status={string.Join(',', statuses.Select(s => $"{s.Key}x{s.Value}"))}")
            + (redis is null ? "" : string.Create(CultureInfo.InvariantCulture, $" redis_scripts_per_req={(all.Length == 0 ? 0 : (double)redisScripts / all.Length):0.00} redis_cmds_per_req={(all.Length == 0 ? 0 : (double)redisCommands / all.Length):0.00}")));
        return 0;
    }

    private static async Task RunPhaseAsync(Func<int, Task<HttpResponseMessage>> send, int connections, TimeSpan duration, Action<int, long, int>? record)
    {
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    using var response = await send(worker);
                    status = (int)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    status = -1;
                }
                record?.Invoke(worker, Stopwatch.GetTimestamp() - start, status);
            }
        })));
    }

    /// <summary>User + system CPU seconds of a process so far (Linux /proc; 0 without a pid).</summary>
    internal static double ServerCpuSeconds(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of stat (utime, stime), counted from the state field (3): indices 11 and 12; clock ticks of 1/100 s.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>The servers' GC-allocated bytes so far, summed; -1 without sockets.</summary>
    private static long AllocatedBytes(string[] sockets)
    {
        if (sockets.Length == 0)
        {
            return -1;
        }
        var sum = 0L;
        foreach (var socket in sockets)
        {
            sum += StartupHook.Read(socket);
        }
        return sum;
    }

    /// <summary>
    /// The scripts (EVAL, EVALSHA) and all the commands Redis has run so far (sums of <c>calls</c> in
    /// <c>INFO commandstats</c>, less the INFO calls, so these reads do not count themselves), over a plain RESP connection.
    /// </summary>
    private static (long Scripts, long All) RedisCommands(string address)
    {
        var (host, port) = (address[..address.LastIndexOf(':')], int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
        using var tcp = new System.Net.Sockets.TcpClient(host, port);
        using var stream = tcp.GetStream();
        stream.Write("*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n"u8);
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        var header = reader.ReadLine() ?? throw new IOException("Redis closed the connection");
        if (header[0] != '$')
        {
            throw new IOException("Redis answered " + header);
        }
        var text = new char[int.Parse(header.AsSpan(1), CultureInfo.InvariantCulture)];
        for (var read = 0; read < text.Length;)
        {
            var n = reader.Read(text, read, text.Length - read);
            if (n == 0)
            {
                throw new IOException("Redis closed the connection mid-answer");
            }
            read += n;
        }
        var (scripts, total) = (0L, 0L);
        foreach (var line in new string(text).Split('\n'))
        {
            // cmdstat_evalsha:calls=123,usec=...
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal) || line.StartsWith("cmdstat_info:", StringComparison.Ordinal))
            {
                continue;
            }
            var calls = line[(line.IndexOf("calls=", StringComparison.Ordinal) + 6)..];
            var count = long.Parse(calls[..calls.IndexOf(',')], CultureInfo.InvariantCulture);
            total += count;
            if (line.StartsWith("cmdstat_eval", StringComparison.Ordinal))
            {
                scripts += count;
            }
        }
        return (scripts, total);
    }

    private static IEnumerable<string> Options(string[] args, string name) =>
        args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 1 < args.Length).Select(p => args[p.i + 1]);

    private static string? StringOption(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
