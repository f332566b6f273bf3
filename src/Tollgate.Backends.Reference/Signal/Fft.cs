namespace Tollgate.Backends.Reference.Signal;

/// <summary>An in-place iterative radix-2 complex FFT (length a power of two).</summary>
internal static class Fft
{
    public static void Transform(Span<double> re, Span<double> im)
    {
        var n = re.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1)
            {
                j ^= bit;
            }
            j ^= bit;
            if (i < j)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }
        for (var size = 2; size <= n; size <<= 1)
        {
            var angle = -2 * Math.PI / size;
            var (wRe, wIm) = (Math.Cos(angle), Math.Sin(angle));
            for (var start = 0; start < n; start += size)
            {
                double cRe = 1, cIm = 0;
                for (var k = 0; k < size / 2; k++)
                {
                    var a = start + k;
                    var b = a + size / 2;
                    var tRe = re[b] * cRe - im[b] * cIm;
                    var tIm = re[b] * cIm + im[b] * cRe;
                    re[b] = re[a] - tRe;
                    im[b] = im[a] - tIm;
                    re[a] += tRe;
                    im[a] += tIm;
                    (cRe, cIm) = (cRe * wRe - cIm * wIm, cRe * wIm + cIm * wRe);
                }
            }
        }
    }
}
