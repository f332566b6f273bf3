using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Batch;
using Tollgate.Backends.Reference.Codecs;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Benchmarks.Audio;

/// <summary>
/// What decoding 60 s of mono 16 kHz audio costs the reference backend in each format it decodes, through the path a
/// batch upload takes (<see cref="FileDecoder"/>, 64 KB reads from an in-memory file, mono samples to a sink that only
/// counts them). Baseline: the same audio as 16-bit PCM WAV. Files are encoded by ffmpeg at set-up, and each run checks
/// that every sample came out.
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private const int Rate = 16_000;
    private const int Seconds = 60;

    private static readonly Dictionary<string, string[]> Encodings = new()
    {
        ["flac"] = ["-c:a", "flac", "-f", "flac"],
        ["ogg-flac"] = ["-c:a", "flac", "-f", "ogg"],
        ["mp3"] = ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
        ["vorbis"] = ["-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"],
        ["opus"] = ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"],
        ["webm-opus"] = ["-c:a", "libopus", "-b:a", "32k", "-f", "webm"],
        ["webm-vorbis"] = ["-c:a", "libvorbis", "-q:a", "4", "-f", "webm"],
    };

    private readonly Dictionary<string, (byte[] Bytes, AudioInfo Info)> _files = [];
    private readonly CountingSink _sink = new();

    [GlobalSetup]
    public void Setup()
    {
        var wav = Speech();
        _files["wav"] = (wav, Probe(wav));
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-bench-decode");
        Directory.CreateDirectory(directory);
        var source = Path.Combine(directory, "source.wav");
        File.WriteAllBytes(source, wav);
        foreach (var (name, arguments) in Encodings)
        {
            var output = Path.Combine(directory, name + ".bin");
            var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
            foreach (var a in (string[])["-hide_banner", "-loglevel", "error", "-y", "-i", source, .. arguments, output])
            {
                start.ArgumentList.Add(a);
            }
            using var process = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg is needed to encode the benchmark files.");
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException("ffmpeg failed: " + errors);
            }
            var bytes = File.ReadAllBytes(output);
            _files[name] = (bytes, Probe(bytes));
        }
        foreach (var name in _files.Keys)
        {
            var samples = Decode(name);
            var expected = (long)Rate * Seconds * (name.Contains("opus", StringComparison.Ordinal) ? 3 : 1);
            // Vorbis in WebM keeps its last packet's padding (no final granule position): at most one 2,048-sample block.
            if (samples < expected || samples > expected + (name == "webm-vorbis" ? 2048 : 0))
            {
                throw new InvalidOperationException($"{name}: {samples} samples decoded, {expected} expected.");
            }
        }
    }

    [Benchmark(Baseline = true)]
    public long Wav() => Decode("wav");

    [Benchmark]
    public long Flac() => Decode("flac");

    [Benchmark]
    public long OggFlac() => Decode("ogg-flac");

    [Benchmark]
    public long Mp3() => Decode("mp3");

    [Benchmark]
    public long OggVorbis() => Decode("vorbis");

    [Benchmark]
    public long OggOpus() => Decode("opus");

    [Benchmark]
    public long WebmOpus() => Decode("webm-opus");

    [Benchmark]
    public long WebmVorbis() => Decode("webm-vorbis");

    private long Decode(string name)
    {
        var (bytes, info) = _files[name];
        _sink.Count = 0;
        if (FileDecoder.Decode(info, new MemoryStream(bytes, writable: false), _sink, out var problem) != FileDecodeResult.Decoded)
        {
            throw new InvalidOperationException($"{name} did not decode: {problem}");
        }
        return _sink.Count;
    }

    private static AudioInfo Probe(byte[] bytes) => AudioProbe.Probe(new MemoryStream(bytes)).Info;

    /// <summary>60 s of voiced, syllable-modulated bursts with pauses, as 16-bit mono WAV.</summary>
    private static byte[] Speech()
    {
        var samples = new short[Rate * Seconds];
        var random = new Random(5);
        var phase = 0.0;
        for (var i = 0; i < samples.Length; i++)
        {
            var t = (double)i / Rate;
            var noise = 60 * (random.NextDouble() * 2 - 1);
            if (t % 4 > 3.2)
            {
                samples[i] = (short)noise;
                continue;
            }
            var pitch = 150 + 40 * Math.Sin(2 * Math.PI * 0.7 * t);
            phase += 2 * Math.PI * pitch / Rate;
            var voiced = 0.0;
            for (var h = 1; h <= 12; h++)
            {
                voiced += Math.Sin(h * phase) / h;
            }
            samples[i] = (short)(6000 * (0.65 + 0.35 * Math.Sin(2 * Math.PI * 4 * t)) * voiced + noise);
        }
        return WavFile.Mono16(samples, Rate);
    }

    private sealed class CountingSink : IDecodeSink
    {
        public long Count { get; set; }

        public void Start(int sampleRate)
        {
        }

        public void Write(ReadOnlySpan<float> samples) => Count += samples.Length;
    }
}
