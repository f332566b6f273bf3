using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tollgate.Audio;

/// <summary>Real files in every format the probes read, encoded once per test run by ffmpeg (installed by scripts/test.sh).</summary>
public static class GeneratedAudio
{
    private static readonly string Directory = Path.Combine(Path.GetTempPath(), "tollgate-probe-audio-" + Environment.ProcessId);
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Cache = new();

    /// <summary>A 440 Hz tone of <paramref name="seconds"/> at <paramref name="rate"/> Hz, encoded with <paramref name="arguments"/> into <paramref name="name"/>.</summary>
    public static byte[] Get(string name, double seconds, int rate, int channels, params string[] arguments) =>
        Cache.GetOrAdd($"{name}|{seconds}|{rate}|{channels}|{string.Join(' ', arguments)}", _ => new Lazy<byte[]>(() =>
        {
            System.IO.Directory.CreateDirectory(Directory);
            var path = Path.Combine(Directory, Guid.NewGuid().ToString("N") + "-" + name);
            var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                         FormattableString.Invariant($"sine=frequency=440:sample_rate={rate}:duration={seconds}"), "-ac", channels.ToString() })
            {
                start.ArgumentList.Add(a);
            }
            foreach (var a in arguments)
            {
                start.ArgumentList.Add(a);
            }
            start.ArgumentList.Add(path);
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"ffmpeg failed for {name}: {errors}");
            }
            return File.ReadAllBytes(path);
        })).Value;
}
