namespace Tollgate.Backends.Reference.Signal;

/// <summary>
/// The reference's music/speech scores for one frame. There is no trained model here, only three plain
/// measurements combined by fixed rules:
/// <list type="bullet">
/// <item><b>activity</b>: RMS level mapped linearly from -50 dBFS (0) to -30 dBFS (1);</item>
/// <item><b>tonality</b>: 1 − spectral flatness (Welch power spectrum, 100 Hz–8 kHz): pitched sound is near 1, noise near 0;</item>
/// <item><b>modulation</b>: the coefficient of variation of the level over 8 sub-blocks, /0.5, capped at 1: syllabic
/// speech fluctuates, sustained music does not.</item>
/// </list>
/// music = activity × tonality × (1 − modulation); speech = activity × tonality × modulation. A steady tone scores as
/// music, silence and noise as neither. Treat the numbers as signal descriptors, not as detections.
/// </summary>
internal static class MusicHeuristics
{
    private const int SubBlocks = 8;

    public static (double Music, double Speech) Score(ReadOnlySpan<float> x, int sampleRate) =>
        Score(x, sampleRate, new SpectrumScratch());

    /// <summary>As <see cref="Score(ReadOnlySpan{float}, int)"/>, reusing <paramref name="scratch"/>'s buffers.</summary>
    public static (double Music, double Speech) Score(ReadOnlySpan<float> x, int sampleRate, SpectrumScratch scratch)
    {
        if (x.Length == 0)
        {
            return (0, 0);
        }
        var activity = Math.Clamp((LevelDb(x) + 50) / 20, 0, 1);
        if (activity == 0)
        {
            return (0, 0);
        }
        var tonality = Math.Clamp(1 - SpectralFlatness(x, sampleRate, scratch), 0, 1);
        var modulation = Math.Clamp(LevelVariation(x) / 0.5, 0, 1);
        return (Round(activity * tonality * (1 - modulation)), Round(activity * tonality * modulation));
    }

    private static double Round(double p) => Math.Round(Math.Clamp(p, 0, 1), 4);

    internal static double LevelDb(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (var s in x)
        {
            sum += s * s;
        }
        var rms = Math.Sqrt(sum / x.Length);
        return rms > 1e-5 ? 20 * Math.Log10(rms) : -100;
    }

    private static double LevelVariation(ReadOnlySpan<float> x)
    {
        var size = x.Length / SubBlocks;
        if (size == 0)
        {
            return 0;
        }
        Span<double> levels = stackalloc double[SubBlocks];
        double mean = 0;
        for (var b = 0; b < SubBlocks; b++)
        {
            double sum = 0;
            foreach (var s in x.Slice(b * size, size))
            {
                sum += s * s;
            }
            levels[b] = Math.Sqrt(sum / size);
            mean += levels[b] / SubBlocks;
        }
        if (mean < 1e-9)
        {
            return 0;
        }
        double variance = 0;
        foreach (var level in levels)
        {
            variance += (level - mean) * (level - mean) / SubBlocks;
        }
        return Math.Sqrt(variance) / mean;
    }

    /// <summary>Geometric over arithmetic mean of the averaged power spectrum (Hann blocks of ~40 ms, 50% overlap).</summary>
    internal static double SpectralFlatness(ReadOnlySpan<float> x, int sampleRate, SpectrumScratch scratch)
    {
        var block = (int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(sampleRate / 25)) / 2, 8192);
        while (block > x.Length && block > 16)
        {
            block /= 2;
        }
        if (block > x.Length)
        {
            return 1;
        }
        var (re, im, power, window) = scratch.For(block);
        Array.Clear(power);
        var blocks = 0;
        for (var start = 0; start + block <= x.Length; start += block / 2)
        {
            for (var i = 0; i < block; i++)
            {
                re[i] = x[start + i] * window[i];
                im[i] = 0;
            }
            Fft.Transform(re, im);
            for (var k = 0; k < power.Length; k++)
            {
                power[k] += re[k] * re[k] + im[k] * im[k];
            }
            blocks++;
        }
        var low = Math.Max(1, (int)(100.0 * block / sampleRate));
        var high = Math.Min(power.Length - 1, (int)(8000.0 * block / sampleRate));
        if (high <= low)
        {
            return 1;
        }
        double logSum = 0, sum = 0;
        for (var k = low; k <= high; k++)
        {
            var p = power[k] / blocks + 1e-12;
            logSum += Math.Log(p);
            sum += p;
        }
        var bins = high - low + 1;
        return Math.Exp(logSum / bins) / (sum / bins);
    }
}

/// <summary>FFT buffers and the Hann window of one block size, kept across frames.</summary>
internal sealed class SpectrumScratch
{
    private double[] _re = [];
    private double[] _im = [];
    private double[] _power = [];
    private double[] _window = [];

    internal (double[] Re, double[] Im, double[] Power, double[] Window) For(int block)
    {
        if (_re.Length != block)
        {
            _re = new double[block];
            _im = new double[block];
            _power = new double[block / 2];
            _window = new double[block];
            for (var i = 0; i < block; i++)
            {
                _window[i] = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / (block - 1));
            }
        }
        return (_re, _im, _power, _window);
    }
}
