using System.Text;
using Microsoft.AspNetCore.Http;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Batch;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Server.Models;

namespace Tollgate.Fuzz;

/// <summary>The fuzz targets: each takes one input and throws when the code under test misbehaves on it.</summary>
internal static class Targets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["probe"] = Probe,
        ["decode"] = Decode,
        ["multipart"] = Multipart,
    };

    /// <summary>
    /// What a probe may allocate: a constant (its buffers, the codec names, pooled arrays rented for the first time)
    /// plus a small multiple of the bytes the input really has (the MP4 walk names each box it meets) — never a
    /// multiple of a size a header claims.
    /// </summary>
    public static long ProbeAllocationBound(long length) => 512 * 1024 + 16 * length;

    /// <summary>AudioProbe on the input: never an exception, and a success never says something impossible.</summary>
    public static void Probe(byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = AudioProbe.Probe(new MemoryStream(input, writable: false));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Check(allocated <= ProbeAllocationBound(input.Length), $"the probe allocated {allocated:N0} bytes for a {input.Length:N0}-byte input");
        CheckResult(result);
    }

    public static void CheckResult(ProbeResult result)
    {
        if (!result.Success)
        {
            Check(result.Detail is { Length: > 0 }, "a failed probe says why");
            return;
        }
        var info = result.Info;
        Check(info.DurationMs >= 0, $"duration {info.DurationMs} ms");
        Check(info.SampleRate >= 0, $"sample rate {info.SampleRate}");
        Check(info.Channels >= 0, $"channels {info.Channels}");
        Check(!string.IsNullOrEmpty(info.Codec), "no codec name");
    }

    /// <summary>
    /// The reference backend's decoders on the input, as a batch upload reaches them (probe, then the whole file in
    /// 64 KB reads) and as a WebSocket stream does (the decoder sniffed from the first bytes, fed in chunks of a size
    /// the input's first byte picks). Nothing may escape, and what is decoded is finite samples in [-1, 1].
    /// </summary>
    public static void Decode(byte[] input)
    {
        var probe = AudioProbe.Probe(new MemoryStream(input, writable: false));
        CheckResult(probe);
        if (probe.Success && FileDecoder.CanDecode(probe.Info))
        {
            var sink = new CheckingSink();
            var outcome = FileDecoder.Decode(probe.Info, new MemoryStream(input, writable: false), sink, out var problem);
            Check(outcome != FileDecodeResult.Undecodable || problem is { Length: > 0 }, "an undecodable file says why");
            sink.CheckClean();
        }
        if (CompressedDecoder.Sniff(input) is { } decoder)
        {
            var sink = new CheckingSink();
            var chunk = input.Length == 0 ? 1 : 1 + (input[0] % 16) * 397;
            for (var offset = 0; offset < input.Length && decoder.Healthy; offset += chunk)
            {
                decoder.Feed(input.AsSpan(offset, Math.Min(chunk, input.Length - offset)), sink);
            }
            decoder.Finish(sink);
            (decoder as IDisposable)?.Dispose();
            Check(decoder.Healthy || decoder.Problem is { Length: > 0 }, "a decoder that stopped says why");
            Check(decoder.Frames == sink.Samples, $"the decoder counted {decoder.Frames} samples and delivered {sink.Samples}");
            sink.CheckClean();
        }
    }

    private static readonly string SpoolDirectory = Path.Combine(Path.GetTempPath(), "tollgate-fuzz-spool-" + Environment.ProcessId);

    /// <summary>
    /// The batch endpoints' multipart reader: the input's first line is the Content-Type header, the rest the body.
    /// Every outcome is an upload or a refusal in shape (never an exception), and no spool file outlives it.
    /// </summary>
    public static void Multipart(byte[] input)
    {
        if (Directory.Exists(SpoolDirectory))
        {
            // What an earlier input's finding left, so each input is judged on its own.
            Directory.Delete(SpoolDirectory, recursive: true);
        }
        var newline = Array.IndexOf(input, (byte)'\n');
        var contentType = newline < 0 ? "" : Encoding.Latin1.GetString(input, 0, newline).TrimEnd('\r');
        var body = newline < 0 ? input : input[(newline + 1)..];
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = contentType;
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body, writable: false);
        var (upload, rejection) = BatchUpload.ReadAsync(context, SpoolDirectory).GetAwaiter().GetResult();
        try
        {
            Check(upload is null != rejection is null, "exactly one of an upload and a refusal");
            if (rejection is { } r)
            {
                Check(r.Status is >= 400 and < 500 && r.Code.Length > 0 && r.Detail.Length > 0, $"a refusal in shape, not {r}");
                Check(!Directory.Exists(SpoolDirectory) || !Directory.EnumerateFileSystemEntries(SpoolDirectory).Any(), "a refused upload left a spool file behind");
            }
            else
            {
                Check(upload!.File is null || upload.File.Length == upload.Length, "the spooled file holds the bytes counted");
            }
        }
        finally
        {
            upload?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        Check(!Directory.Exists(SpoolDirectory) || !Directory.EnumerateFileSystemEntries(SpoolDirectory).Any(), "a disposed upload left a spool file behind");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzFinding(what);
        }
    }

    /// <summary>
    /// Counts what a decoder delivers and remembers the first thing wrong with it. It does not throw: the decoders
    /// turn any exception into "corrupt", which would hide the finding.
    /// </summary>
    private sealed class CheckingSink : IDecodeSink
    {
        public long Samples { get; private set; }

        public string? Wrong { get; private set; }

        public void Start(int sampleRate)
        {
            if (sampleRate <= 0)
            {
                Wrong ??= $"decoding at {sampleRate} Hz";
            }
        }

        public void Write(ReadOnlySpan<float> samples)
        {
            foreach (var s in samples)
            {
                if (!float.IsFinite(s) || s is < -1.0001f or > 1.0001f)
                {
                    Wrong ??= $"a decoded sample of {s} after {Samples} samples";
                    break;
                }
            }
            Samples += samples.Length;
        }

        public void CheckClean() => Check(Wrong is null, Wrong!);
    }
}

/// <summary>An invariant a target checks did not hold.</summary>
internal sealed class FuzzFinding(string message) : Exception(message);
