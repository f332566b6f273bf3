using System.Runtime.InteropServices;

namespace Tollgate.Backends.Reference.Codecs.Mp3;

/// <summary>Whether MP3 can be encoded on this machine, and if not, what to do about it.</summary>
/// <param name="Available">libmp3lame loaded.</param>
/// <param name="Version">LAME's version when available.</param>
/// <param name="Problem">When unavailable: one sentence naming the package to install.</param>
internal sealed record Mp3Availability(bool Available, string? Version, string? Problem);

/// <summary>
/// Mono 16-bit PCM to constant-bit-rate MP3 through libmp3lame, in chunks: <see cref="Encode"/> as samples arrive,
/// <see cref="Finish"/> at the end, then <see cref="TagFrame"/> gives the Xing/Info frame (with LAME's encoder delay,
/// padding and frame count) that belongs in place of the placeholder first frame, so decoders trim the priming and
/// the file plays for exactly as long as its input. The output keeps the input's rate where MPEG audio has it
/// (8 to 48 kHz); other rates are resampled by LAME.
/// </summary>
internal sealed class Mp3Encoder : IDisposable
{
    private static readonly Lazy<Mp3Availability> Probe = new(Check);

    private readonly LameHandle _lame;
    private byte[] _output = new byte[16 * 1024];

    public Mp3Encoder(int sampleRate)
    {
        if (!Availability.Available)
        {
            throw new InvalidOperationException(Availability.Problem);
        }
        _lame = LameNative.Init();
        if (_lame.IsInvalid)
        {
            throw new InvalidOperationException("lame_init failed.");
        }
        LameNative.SetChannels(_lame, 1);
        LameNative.SetMode(_lame, LameNative.ModeMono);
        LameNative.SetInputRate(_lame, sampleRate);
        if (MpegRates.Contains(sampleRate))
        {
            LameNative.SetOutputRate(_lame, sampleRate);
        }
        LameNative.SetBitRate(_lame, BitRate(sampleRate));
        LameNative.SetQuality(_lame, 5);
        LameNative.SetWriteTag(_lame, 1);
        if (LameNative.InitParams(_lame) < 0)
        {
            _lame.Dispose();
            throw new InvalidOperationException($"LAME refused to encode {sampleRate} Hz mono.");
        }
    }

    /// <summary>Whether libmp3lame can be loaded (checked once per process).</summary>
    public static Mp3Availability Availability => Probe.Value;

    /// <summary>
    /// Kbit/s for mono speech at <paramref name="rate"/>: enough for a frame to hold LAME's Info tag (at 32 kbit/s a
    /// 16 kHz frame is 144 bytes, too small, and LAME then writes no tag, so decoders could not trim the priming).
    /// </summary>
    private static int BitRate(int rate) => rate switch
    {
        >= 16_000 => 64,
        >= 11_025 => 32,
        _ => 24,
    };

    /// <summary>The sampling rates MPEG audio layer III has.</summary>
    private static ReadOnlySpan<int> MpegRates => [8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000];

    /// <summary>A whole clip as an MP3 file, its Info frame in place.</summary>
    public static byte[] EncodeClip(ReadOnlySpan<short> samples, int sampleRate)
    {
        using var encoder = new Mp3Encoder(sampleRate);
        using var file = new MemoryStream();
        encoder.Encode(samples, file);
        encoder.Finish(file);
        encoder.WriteTagFrame(file);
        return file.ToArray();
    }

    /// <summary>Encodes <paramref name="samples"/>, appending whatever MP3 frames are ready to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<short> samples, Stream output)
    {
        const int Block = 8192;
        for (var at = 0; at < samples.Length; at += Block)
        {
            var block = samples.Slice(at, Math.Min(Block, samples.Length - at));
            var room = block.Length * 5 / 4 + 7200; // lame.h's worst case
            if (_output.Length < room)
            {
                _output = new byte[room];
            }
            var written = LameNative.EncodeBuffer(_lame, block, nint.Zero, block.Length, _output, _output.Length);
            Check(written, "lame_encode_buffer");
            output.Write(_output, 0, written);
        }
    }

    /// <summary>Encodes what LAME still holds and appends the last frames.</summary>
    public void Finish(Stream output)
    {
        var written = LameNative.Flush(_lame, _output, _output.Length);
        Check(written, "lame_encode_flush");
        output.Write(_output, 0, written);
    }

    /// <summary>Writes the Info frame over the placeholder at the start of <paramref name="file"/> (seekable), after <see cref="Finish"/>.</summary>
    public void WriteTagFrame(Stream file)
    {
        Span<byte> frame = stackalloc byte[2048];
        var length = (int)LameNative.GetTagFrame(_lame, frame, (nuint)frame.Length);
        if (length == 0)
        {
            return; // LAME reserved no Info frame (a frame too small to hold one): the file has no placeholder either.
        }
        if (length > frame.Length)
        {
            throw new InvalidOperationException($"LAME's Info frame of {length} bytes is larger than any MP3 frame.");
        }
        var end = file.Position;
        file.Seek(0, SeekOrigin.Begin);
        file.Write(frame[..length]);
        file.Seek(end, SeekOrigin.Begin);
    }

    public void Dispose() => _lame.Dispose();

    private static void Check(int result, string call)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"{call} failed with {result}.");
        }
    }

    private static Mp3Availability Check() => Check(LameNative.Library);

    /// <summary>Whether <paramref name="library"/> loads and exports LAME's entry points (the process-wide answer uses <see cref="LameNative.Library"/>).</summary>
    internal static Mp3Availability Check(string library)
    {
        if (!NativeLibrary.TryLoad(library, typeof(Mp3Encoder).Assembly, null, out var handle))
        {
            return Unavailable(library, "it could not be loaded");
        }
        try
        {
            if (!NativeLibrary.TryGetExport(handle, "lame_get_lametag_frame", out _) || !NativeLibrary.TryGetExport(handle, "get_lame_version", out _))
            {
                return Unavailable(library, "it lacks LAME's entry points");
            }
            return library == LameNative.Library
                ? new Mp3Availability(true, Marshal.PtrToStringUTF8(LameNative.Version()), null)
                : new Mp3Availability(true, null, null);
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }

    private static Mp3Availability Unavailable(string library, string why) => new(false, null,
        $"MP3 encoding is unavailable: {library} ({why}). Install it with `apt-get install libmp3lame0`; until then the PII/PHI "
        + "redaction endpoints, whose audio the contracts send as MP3, answer 503 mp3_encoder_unavailable.");
}
