using System.Text;
using BenchmarkDotNet.Attributes;
using Tollgate.Server.Models;

namespace Tollgate.Benchmarks.Upstream;

/// <summary>
/// What Tollgate adds to the bytes of a streamed-through upload (a 960 KB WAV as multipart, the load run's body) as
/// YARP's copier reads it in 64 KB pieces: the replay of the recorded beginning, the search for the file part's closing
/// delimiter in every byte (to charge the file's exact length), and the check of the parts after the file. Baseline:
/// the same reads straight from the body.
/// </summary>
[MemoryDiagnoser]
public class StreamThroughBenchmarks
{
    private const string Boundary = "tollgatebench";
    private byte[] _body = [];
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly byte[] _head = new byte[16 * 1024];
    private long _fileStart;

    [GlobalSetup]
    public void Setup()
    {
        var head = Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"upload_file\"; filename=\"bench.wav\"\r\nContent-Type: audio/wav\r\n\r\n");
        var wav = new byte[960_044];
        new Random(7).NextBytes(wav);
        var tail = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");
        _body = [.. head, .. wav, .. tail];
        _fileStart = head.Length;
    }

    [Benchmark(Baseline = true)]
    public async Task<long> ReadBody()
    {
        using var body = new MemoryStream(_body, writable: false);
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(_buffer)) > 0)
        {
            total += read;
        }
        return total;
    }

    [Benchmark]
    public async Task<long> ReplayScanAndCheck()
    {
        using var replay = new UploadReplay(new MemoryStream(_body, writable: false));
        // The beginning recorded, as the header probe reads it.
        await replay.ReadAtLeastAsync(_head, _head.Length);
        var scan = new BoundaryScan(Encoding.ASCII.GetBytes("\r\n--" + Boundary), _fileStart);
        replay.Replay(scan);
        replay.Enforce(new UploadTail(Boundary, new Dictionary<string, string>()), _body.Length, null, null);
        long total = 0;
        int read;
        while ((read = await replay.ReadAsync(_buffer)) > 0)
        {
            total += read;
        }
        return total;
    }
}
