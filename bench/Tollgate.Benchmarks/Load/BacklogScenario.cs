using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Models;
using Tollgate.Server.Hosting;

namespace Tollgate.Benchmarks.Load;

/// <summary>
/// <c>backlog [--files 1000] [--concurrency 5] [--seconds 0.5]</c>: a backlog of small WAV files through the SDK against
/// the real server (in this process, on Kestrel 127.0.0.1) with a key whose concurrency limit is the given one, in the
/// same run: the median service time of one request alone, the gated SDK client (gate learned from the server), and a
/// naive client (every file at once with <c>Task.WhenAll</c>, retries on). Prints throughput as a ratio of the
/// limit-bound maximum (concurrency ÷ median service time) and 429s per 1,000 files.
/// </summary>
public static class BacklogScenario
{
    private const string Model = "velma-2-stt-batch";
    private const string AdminToken = "bench-admin-token-0123456789";

    public static async Task<int> RunAsync(string[] args)
    {
        var files = Arg(args, "--files", 1000);
        var concurrency = Arg(args, "--concurrency", 5);
        var seconds = Arg(args, "--seconds", 0.5);
        var directory = Directory.CreateTempSubdirectory("tollgate-backlog-bench-").FullName;
        var app = TollgateApplication.Build(["--urls", "http://127.0.0.1:0"], builder => builder.Logging.ClearProviders(),
            configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Tollgate:DataDirectory"] = directory,
                ["ConnectionStrings:Tollgate"] = $"Data Source={Path.Combine(directory, "tollgate.db")}",
                ["Tollgate:Admin:Token"] = AdminToken,
                ["Tollgate:Bootstrap:CreateDemo"] = "false",
                ["Tollgate:SpoolDirectory"] = Path.Combine(directory, "spool"),
                ["Tollgate:RateLimits:Headers"] = "Both",
            }));
        await app.StartAsync();
        try
        {
            var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
            var audio = Wav(seconds);
            var hours = files * 3 * seconds / 3600 + 1;

            var alone = await MedianServiceTimeAsync(url, await KeyAsync(url, concurrency, hours), audio, 40);
            var gated = await RunBacklogAsync(url, await KeyAsync(url, concurrency, hours), audio, files, maxConcurrency: null, workers: 32);
            var naive = await RunBacklogAsync(url, await KeyAsync(url, concurrency, hours), audio, files, maxConcurrency: files, workers: files);

            Console.WriteLine(Invariant($"median service time of one request alone: {alone.TotalMilliseconds:0.0} ms; in the gated run (5 in flight): {gated.MedianServiceTime.TotalMilliseconds:0.0} ms"));
            Console.WriteLine("| client | files/s | limit-bound maximum (concurrency ÷ median service time in that run) | ratio | failed | 429s | 429s per 1,000 files |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (name, r) in new[] { ("SDK, gate learned", gated), ("naive Task.WhenAll, retries on", naive) })
            {
                var bound = concurrency / r.MedianServiceTime.TotalSeconds;
                Console.WriteLine(Invariant($"| {name} | {r.Throughput:0.0} | {bound:0.0} | {r.Throughput / bound:0.00} | {r.Failed} | {r.RateLimited} | {r.RateLimited * 1000.0 / files:0} |"));
            }
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed record Result(double Throughput, int Failed, long RateLimited, TimeSpan MedianServiceTime);

    /// <summary>Times each attempt on the wire (send to answer headers), outside the SDK's gate and waits.</summary>
    private sealed class Timing() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly List<TimeSpan> _admitted = [];

        public TimeSpan Median()
        {
            lock (_admitted)
            {
                var sorted = _admitted.Order().ToList();
                return sorted.Count == 0 ? TimeSpan.Zero : sorted[sorted.Count / 2];
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            var response = await base.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                // Only answered requests: a 429 costs the server nothing and says nothing of its service time.
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                lock (_admitted)
                {
                    _admitted.Add(watch.Elapsed);
                }
            }
            return response;
        }
    }

    private static async Task<TimeSpan> MedianServiceTimeAsync(Uri url, string key, byte[] audio, int count)
    {
        using var client = new TollgateModelsClient(new TollgateClientOptions { BaseAddress = url, ApiKey = key, MaxConcurrency = 1 });
        var times = new List<TimeSpan>();
        for (var i = 0; i < count + 5; i++)
        {
            var watch = Stopwatch.StartNew();
            using var answer = await client.PostBatchAsync(Model, new MemoryStream(audio), $"warm{i}.wav");
            if (i >= 5)
            {
                times.Add(watch.Elapsed);
            }
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static async Task<Result> RunBacklogAsync(Uri url, string key, byte[] audio, int files, int? maxConcurrency, int workers)
    {
        var timing = new Timing();
        var options = new TollgateClientOptions { BaseAddress = url, ApiKey = key, MaxConcurrency = maxConcurrency };
        using var client = new TollgateModelsClient(options, null, timing);
        var failed = 0;
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
        return new Result(files / watch.Elapsed.TotalSeconds, failed, client.Behavior!.Statistics.RateLimited, timing.Median());
    }

    private static async Task<string> KeyAsync(Uri url, int concurrency, double hours)
    {
        using var admin = new TollgateAdminClient(url, AdminToken);
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

    private static T Arg<T>(string[] args, string name, T fallback) where T : IParsable<T>
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? T.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
