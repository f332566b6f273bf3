using System.Runtime.InteropServices;

namespace Tollgate.Backends.Reference.Codecs.Mp3;

/// <summary>The handful of libmp3lame (LAME 3.100, Debian's <c>libmp3lame0</c>) entry points the encoder uses.</summary>
internal static partial class LameNative
{
    /// <summary>The runtime library's soname (Debian ships no unversioned <c>libmp3lame.so</c> without the -dev package).</summary>
    public const string Library = "libmp3lame.so.0";

    /// <summary>lame.h's <c>MPEG_mode</c> value for one channel.</summary>
    public const int ModeMono = 3;

    [LibraryImport(Library, EntryPoint = "lame_init")]
    public static partial LameHandle Init();

    [LibraryImport(Library, EntryPoint = "lame_close")]
    public static partial int Close(nint gfp);

    [LibraryImport(Library, EntryPoint = "lame_set_num_channels")]
    public static partial int SetChannels(LameHandle gfp, int channels);

    [LibraryImport(Library, EntryPoint = "lame_set_in_samplerate")]
    public static partial int SetInputRate(LameHandle gfp, int rate);

    [LibraryImport(Library, EntryPoint = "lame_set_out_samplerate")]
    public static partial int SetOutputRate(LameHandle gfp, int rate);

    [LibraryImport(Library, EntryPoint = "lame_set_brate")]
    public static partial int SetBitRate(LameHandle gfp, int kbps);

    [LibraryImport(Library, EntryPoint = "lame_set_mode")]
    public static partial int SetMode(LameHandle gfp, int mode);

    [LibraryImport(Library, EntryPoint = "lame_set_quality")]
    public static partial int SetQuality(LameHandle gfp, int quality);

    [LibraryImport(Library, EntryPoint = "lame_set_bWriteVbrTag")]
    public static partial int SetWriteTag(LameHandle gfp, int write);

    [LibraryImport(Library, EntryPoint = "lame_init_params")]
    public static partial int InitParams(LameHandle gfp);

    /// <summary>Encodes 16-bit samples (the right channel is ignored, and may be null, in mono); returns the bytes written or a negative error.</summary>
    [LibraryImport(Library, EntryPoint = "lame_encode_buffer")]
    public static partial int EncodeBuffer(LameHandle gfp, ReadOnlySpan<short> left, nint right, int samples, Span<byte> output, int outputSize);

    [LibraryImport(Library, EntryPoint = "lame_encode_flush")]
    public static partial int Flush(LameHandle gfp, Span<byte> output, int outputSize);

    /// <summary>The final Xing/Info frame with its LAME extension (delay, padding, frame count), to put in place of the first frame.</summary>
    [LibraryImport(Library, EntryPoint = "lame_get_lametag_frame")]
    public static partial nuint GetTagFrame(LameHandle gfp, Span<byte> buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "get_lame_version")]
    public static partial nint Version();
}

/// <summary>A <c>lame_global_flags*</c>, closed with <c>lame_close</c>.</summary>
internal sealed class LameHandle : SafeHandle
{
    public LameHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => LameNative.Close(handle) == 0;
}
