using System.Buffers.Binary;
using System.Diagnostics;

namespace Tollgate.Infrastructure;

/// <summary>Real audio for the tests: PCM written here, every other format encoded by ffmpeg (installed by scripts/test.sh).</summary>
public static class TestAudio
{
    private static readonly string Cache = Path.Combine(Path.GetTempPath(), "tollgate-test-audio-" + Environment.ProcessId);

    /// <summary>Mono 16-bit samples: tone bursts at 440 Hz during <paramref name="bursts"/> (start s, end s), silence elsewhere.</summary>
    public static short[] Samples(int sampleRate, double seconds, params (double Start, double End)[] bursts)
    {
        var samples = new short[(int)Math.Round(sampleRate * seconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            var t = (double)i / sampleRate;
            if (bursts.Any(b => t >= b.Start && t < b.End))
            {
                samples[i] = (short)(9000 * Math.Sin(2 * Math.PI * 440 * t));
            }
        }
        return samples;
    }

    /// <summary>Raw little-endian 16-bit PCM bytes.</summary>
    public static byte[] S16Le(short[] samples)
    {
        var bytes = new byte[samples.Length * 2];
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), samples[i]);
        }
        return bytes;
    }

    /// <summary>A canonical 44-byte-header PCM WAV.</summary>
    public static byte[] Wav(short[] samples, int sampleRate)
    {
        var data = S16Le(samples);
        var bytes = new byte[44 + data.Length];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], bytes.Length - 8);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], data.Length);
        data.CopyTo(span[44..]);
        return bytes;
    }

    /// <summary>3 s at 16 kHz with two bursts: the default clip of the Models API tests.</summary>
    public static byte[] SpeechLikeWav() => Wav(Samples(16_000, 3.0, (0.5, 1.5), (2.0, 2.8)), 16_000);

    /// <summary>
    /// The same clip encoded by ffmpeg into <paramref name="extension"/> (with extra ffmpeg arguments). Fails with a
    /// message naming scripts/test.sh when ffmpeg is missing: these tests are not skipped silently.
    /// </summary>
    public static byte[] Encode(string extension, double seconds = 3.0, params string[] codecArgs)
    {
        Directory.CreateDirectory(Cache);
        var key = $"{extension}-{seconds}-{string.Join("_", codecArgs).Replace('/', '-').Replace(':', '-')}";
        var output = Path.Combine(Cache, key + "." + extension);
        if (!File.Exists(output))
        {
            var input = Path.Combine(Cache, $"source-{seconds}.wav");
            if (!File.Exists(input))
            {
                File.WriteAllBytes(input, Wav(Samples(16_000, seconds, (0.2, seconds * 0.45), (seconds * 0.55, seconds - 0.2)), 16_000));
            }
            var args = new List<string> { "-hide_banner", "-loglevel", "error", "-y", "-i", input };
            args.AddRange(codecArgs);
            args.Add(output);
            Run("ffmpeg", args);
        }
        return File.ReadAllBytes(output);
    }

    /// <summary>
    /// ffprobe's codec name of <paramref name="audio"/>, and its length in milliseconds as ffmpeg decodes it to 16 kHz
    /// mono (ffmpeg's decoders trim an MP3's LAME delay and padding; ffprobe's container duration would count them).
    /// </summary>
    public static (string Codec, long DurationMs) ProbeMp3(byte[] audio)
    {
        Directory.CreateDirectory(Cache);
        var path = Path.Combine(Cache, Guid.NewGuid().ToString("N") + ".bin");
        var raw = Path.ChangeExtension(path, ".raw");
        File.WriteAllBytes(path, audio);
        try
        {
            var codec = Run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "default=noprint_wrappers=1:nokey=1", path]).Trim();
            Run("ffmpeg", ["-v", "error", "-y", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "16000", raw]);
            return (codec, new FileInfo(raw).Length / 2 * 1000 / 16_000);
        }
        finally
        {
            File.Delete(path);
            File.Delete(raw);
        }
    }

    private static string Run(string tool, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"{tool} is not installed: run ./scripts/test.sh, which installs it.");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{tool} {string.Join(' ', start.ArgumentList)} failed: {stderr.Result}");
            }
            return stdout;
        }
    }
}
