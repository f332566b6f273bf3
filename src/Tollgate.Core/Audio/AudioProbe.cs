using Tollgate.Audio.Probes;

namespace Tollgate.Audio;

/// <summary>
/// Establishes an audio file's real duration from its own bytes (DESIGN 5): the format is recognised from the content,
/// never the name, and headers are read instead of decoding wherever the format allows (WAV/RF64, AIFF, AU, FLAC,
/// MP3, Ogg Vorbis/Opus/FLAC, MP4/M4A/MOV/3GP, WebM/Matroska, ADTS AAC, AMR, ASF/WMA). Every read is bounded by the
/// real length and every walk by a count, so truncated or hostile files give <see cref="ProbeError.Corrupt"/>
/// quickly; the probe never throws.
/// </summary>
internal static class AudioProbe
{
    /// <summary>Probes a seekable stream from its start (wherever it is positioned).</summary>
    public static ProbeResult Probe(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("The probe needs a readable, seekable stream.", nameof(stream));
        }
        if (stream.Length == 0)
        {
            return ProbeResult.Fail(ProbeError.Empty, "The file is empty.");
        }
        var source = new ProbeSource(stream);
        try
        {
            return Plausible(Detect(source));
        }
        catch (Exception ex) when (ex is ProbeException or EndOfStreamException or OverflowException or ArgumentOutOfRangeException or IndexOutOfRangeException or IOException)
        {
            return ProbeResult.Fail(ProbeError.Corrupt, "The audio headers are truncated or inconsistent.");
        }
    }

    /// <summary>
    /// Probes the first <paramref name="count"/> bytes of a file of <paramref name="fileLength"/> bytes (exact, or an upper
    /// bound while the rest is still arriving), as <see cref="Probe"/> would probe the whole file; null when the
    /// beginning does not establish the duration (an Ogg's last granule, an MP3 without a Xing/VBRI tag, an MP4 whose
    /// <c>moov</c> comes after the media), so the whole file is needed. The headers' figures are bounded by
    /// <paramref name="fileLength"/> as the whole file's are by its length: with the exact length the answer is the whole
    /// file's.
    /// </summary>
    public static ProbeResult? ProbePrefix(byte[] prefix, int count, long fileLength)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, prefix.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(fileLength, (long)count);
        if (fileLength == 0)
        {
            return ProbeResult.Fail(ProbeError.Empty, "The file is empty.");
        }
        using var stream = new MemoryStream(prefix, 0, count, writable: false);
        var source = new ProbeSource(stream, fileLength, count);
        try
        {
            return Plausible(Detect(source));
        }
        catch (PrefixExhaustedException)
        {
            return null;
        }
        catch (Exception ex) when (ex is ProbeException or EndOfStreamException or OverflowException or ArgumentOutOfRangeException or IndexOutOfRangeException or IOException)
        {
            return ProbeResult.Fail(ProbeError.Corrupt, "The audio headers are truncated or inconsistent.");
        }
    }

    private static ProbeResult Detect(ProbeSource source)
    {
        Span<byte> head = stackalloc byte[16];
        var count = source.ReadAt(0, head);
        head = head[..count];
        if (head.StartsWith("RIFF"u8) || head.StartsWith("RF64"u8) || head.StartsWith("BW64"u8))
        {
            return count >= 12 && head[8..12].SequenceEqual("WAVE"u8) ? PcmContainerProbes.Wav(source) : Unsupported();
        }
        if (head.StartsWith("FORM"u8))
        {
            return count >= 12 && (head[8..12].SequenceEqual("AIFF"u8) || head[8..12].SequenceEqual("AIFC"u8)) ? PcmContainerProbes.Aiff(source) : Unsupported();
        }
        if (head.StartsWith(".snd"u8))
        {
            return PcmContainerProbes.Au(source);
        }
        if (head.StartsWith("OggS"u8))
        {
            return OggProbe.Probe(source);
        }
        if (head.StartsWith("#!AMR-WB\n"u8))
        {
            return FrameProbes.Amr(source, wideband: true);
        }
        if (head.StartsWith("#!AMR\n"u8))
        {
            return FrameProbes.Amr(source, wideband: false);
        }
        if (head.StartsWith(AsfProbe.HeaderGuid))
        {
            return AsfProbe.Probe(source);
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return MatroskaProbe.Probe(source);
        }
        if (count >= 8 && IsBoxType(head[4..8]))
        {
            return Mp4Probe.Probe(source);
        }
        // MP3, ADTS and FLAC may hide behind ID3v2 tags.
        var start = source.SkipId3v2(0);
        Span<byte> after = stackalloc byte[8];
        var afterCount = source.ReadAt(start, after);
        after = after[..afterCount];
        if (after.StartsWith("fLaC"u8))
        {
            return FrameProbes.Flac(source, start);
        }
        if (FrameProbes.IsAdts(after))
        {
            return FrameProbes.Adts(source, start);
        }
        if (FrameProbes.LooksLikeMp3(source, start, out var first))
        {
            return FrameProbes.Mp3(source, first);
        }
        return start > 0 ? ProbeResult.Fail(ProbeError.Corrupt, "An ID3 tag with no audio after it.") : Unsupported();
    }

    /// <summary>
    /// The last word on what a probe found: a duration below zero or past <see cref="ProbeMath.MaxDurationMs"/>, or a
    /// negative rate or channel count, is a header that lies, whichever format's arithmetic let it through.
    /// </summary>
    private static ProbeResult Plausible(ProbeResult result) =>
        !result.Success || result.Info is { DurationMs: >= 0 and <= ProbeMath.MaxDurationMs, SampleRate: >= 0, Channels: >= 0 }
            ? result
            : ProbeResult.Fail(ProbeError.Corrupt, "The audio headers are truncated or inconsistent.");

    private static bool IsBoxType(ReadOnlySpan<byte> type) =>
        type.SequenceEqual("ftyp"u8) || type.SequenceEqual("moov"u8) || type.SequenceEqual("wide"u8) || type.SequenceEqual("free"u8)
        || type.SequenceEqual("mdat"u8) || type.SequenceEqual("skip"u8) || type.SequenceEqual("pnot"u8);

    private static ProbeResult Unsupported() => ProbeResult.Fail(ProbeError.UnsupportedFormat, "The bytes are not an audio format the probes know.");
}
