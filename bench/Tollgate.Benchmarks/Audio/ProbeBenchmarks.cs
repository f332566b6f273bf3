using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Tollgate.Audio;
using Tollgate.Backends.Reference.Pcm;

namespace Tollgate.Benchmarks.Audio;

/// <summary>
/// The duration probe of every contract format on a 60 s mono clip held in memory (so the figure is the probe's own
/// work, not the disk's). Baseline: the WAV probe, a single header read. Files are encoded by ffmpeg at set-up.
/// </summary>
[MemoryDiagnoser]
public class ProbeBenchmarks
{
    private const double Seconds = 60;

    private static readonly Dictionary<string, string[]> Encodings = new()
    {
        ["flac"] = ["-f", "flac"],
        ["mp3-xing"] = ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
        ["mp3-no-index"] = ["-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-f", "mp3"],
        ["ogg-vorbis"] = ["-c:a", "libvorbis", "-f", "ogg"],
        ["opus"] = ["-c:a", "libopus", "-f", "opus"],
        ["m4a-aac"] = ["-c:a", "aac", "-f", "ipod"],
        ["webm-opus"] = ["-c:a", "libopus", "-f", "webm"],
        ["aac-adts"] = ["-c:a", "aac", "-f", "adts"],
        ["aiff"] = ["-f", "aiff"],
        ["au"] = ["-f", "au"],
        ["wma"] = ["-c:a", "wmav2", "-f", "asf"],
    };

    private readonly Dictionary<string, byte[]> _files = new();

    [ParamsSource(nameof(Formats))]
    public string Format { get; set; } = "wav";

    public static IEnumerable<string> Formats => ["wav", .. Encodings.Keys];

    [GlobalSetup]
    public void Setup()
    {
        var wav = Wav(16_000, Seconds);
        _files["wav"] = wav;
        if (Format == "wav")
        {
            return;
        }
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-bench-audio");
        Directory.CreateDirectory(directory);
        var source = Path.Combine(directory, "source.wav");
        File.WriteAllBytes(source, wav);
        var output = Path.Combine(directory, Format + ".bin");
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
        foreach (var a in (string[])["-hide_banner", "-loglevel", "error", "-y", "-i", source, .. Encodings[Format], output])
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
        _files[Format] = File.ReadAllBytes(output);
        var check = AudioProbe.Probe(new MemoryStream(_files[Format]));
        if (!check.Success || Math.Abs(check.Info.DurationMs - Seconds * 1000) > 200)
        {
            throw new InvalidOperationException($"{Format}: the probe says {check.Info.DurationMs} ms ({check.Detail}).");
        }
    }

    [Benchmark]
    public long Probe() => AudioProbe.Probe(new MemoryStream(_files[Format], writable: false)).Info.DurationMs;

    private static byte[] Wav(int rate, double seconds)
    {
        var samples = new short[(int)(rate * seconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            var t = (double)i / rate;
            samples[i] = (short)(9000 * Math.Sin(2 * Math.PI * 440 * t) * (Math.Sin(2 * Math.PI * 0.5 * t) > 0 ? 1 : 0));
        }
        return WavFile.Mono16(samples, rate);
    }
}
