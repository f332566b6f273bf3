using System.Collections.Concurrent;
using System.Diagnostics;
using Tollgate.Backends.Reference.Codecs;

namespace Tollgate.Backends.Reference.Codecs;

/// <summary>One recording encoded by ffmpeg (installed by scripts/test.sh) into the compressed formats the reference decodes.</summary>
internal static class EncodedAudio
{
    private static readonly string Directory = Path.Combine(Path.GetTempPath(), "tollgate-codec-audio-" + Environment.ProcessId);
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Cache = new();

    /// <summary>The ffmpeg output options of each format the tests use.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Formats = new Dictionary<string, string[]>
    {
        ["mp3"] = ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
        ["vorbis"] = ["-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"],
        ["opus"] = ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"],
        ["flac"] = ["-c:a", "flac", "-f", "flac"],
        ["ogg-flac"] = ["-c:a", "flac", "-f", "ogg"],
    };

    /// <summary>WebM, decoded too but with less exact timing for Vorbis (see <see cref="CompressedDecoderTests"/>).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> WebmFormats = new Dictionary<string, string[]>
    {
        ["webm-opus"] = ["-c:a", "libopus", "-b:a", "48k", "-f", "webm"],
        ["webm-vorbis"] = ["-c:a", "libvorbis", "-q:a", "4", "-f", "webm"],
    };

    /// <summary><paramref name="wav"/> encoded as <paramref name="format"/> (a key of <see cref="Formats"/>) or with extra ffmpeg options.</summary>
    public static byte[] Encode(byte[] wav, string format, params string[] options) =>
        Encode(wav, [.. (Formats.TryGetValue(format, out var f) ? f : WebmFormats[format]), .. options]);

    public static byte[] Encode(byte[] wav, string[] arguments) =>
        Cache.GetOrAdd(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(wav)) + string.Join(' ', arguments), _ => new Lazy<byte[]>(() =>
        {
            System.IO.Directory.CreateDirectory(Directory);
            var input = Path.Combine(Directory, Guid.NewGuid().ToString("N") + ".wav");
            var output = Path.Combine(Directory, Guid.NewGuid().ToString("N") + ".out");
            File.WriteAllBytes(input, wav);
            Run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", input, .. arguments, output]);
            return File.ReadAllBytes(output);
        })).Value;

    /// <summary>Runs a tool and returns its standard output; throws with its standard error when it fails.</summary>
    public static string Run(string tool, string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed: {stderr.Result}");
        }
        return stdout;
    }

    /// <summary>Decodes <paramref name="bytes"/> fed in chunks of the given sizes (cycling).</summary>
    public static Decoded Decode(byte[] bytes, params int[] chunks)
    {
        var decoder = CompressedDecoder.Sniff(bytes) ?? throw new InvalidOperationException("no decoder for these bytes");
        var sink = new Decoded(decoder);
        foreach (var chunk in TestSignals.Chunks(bytes, chunks.Length == 0 ? [64 * 1024] : chunks))
        {
            decoder.Feed(chunk.Span, sink);
        }
        decoder.Finish(sink);
        (decoder as IDisposable)?.Dispose();
        return sink;
    }

    /// <summary>What a decoder delivered.</summary>
    internal sealed class Decoded(CompressedDecoder decoder) : IDecodeSink
    {
        private readonly List<float> _samples = [];

        public CompressedDecoder Decoder => decoder;

        public int SampleRate { get; private set; }

        public int Starts { get; private set; }

        public float[] Samples => [.. _samples];

        public void Start(int sampleRate)
        {
            SampleRate = sampleRate;
            Starts++;
        }

        public void Write(ReadOnlySpan<float> samples)
        {
            Assert.True(Starts == 1, "samples before Start");
            foreach (var s in samples)
            {
                _samples.Add(s);
            }
        }
    }
}
