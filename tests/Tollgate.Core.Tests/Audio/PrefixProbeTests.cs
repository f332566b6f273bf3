namespace Tollgate.Audio;

/// <summary>
/// Probing a file's beginning (what the upstream path does while the rest is still arriving) gives the whole file's
/// answer, or says the beginning is not enough; it never gives another duration.
/// </summary>
public sealed class PrefixProbeTests
{
    /// <summary>The files whose first 16 KB establish the duration.</summary>
    private static readonly HashSet<string> DecidedByTheirBeginning =
    [
        "s16.wav", "s24.wav", "f32.wav", "mulaw.wav", "rf64.wav", "a.aiff", "a.au", "mulaw.au", "a.flac",
        "cbr.mp3", "vbr.mp3", "tagged.mp3", "a.webm", "vorbis.mkv", "flac.mkv",
    ];

    /// <summary>The files whose duration needs their end (or every frame): the beginning must say so.</summary>
    private static readonly HashSet<string> NeedTheWholeFile = ["scan.mp3", "a.ogg", "a.opus", "opus.ogg", "flac.ogg", "a.aac", "a.m4a", "frag.mp4"];

    [Theory]
    [MemberData(nameof(AudioProbeTests.Formats), MemberType = typeof(AudioProbeTests))]
    public void TheBeginning_GivesTheWholeFilesAnswer_OrNone(string name, double seconds, int rate, int channels, string[] args, string containerName, string codec, int toleranceMs)
    {
        _ = (containerName, codec, toleranceMs);
        var bytes = GeneratedAudio.Get(name, seconds, rate, channels, args);
        var whole = AudioProbe.Probe(new MemoryStream(bytes));
        var count = Math.Min(16 * 1024, bytes.Length - 1);
        var prefix = AudioProbe.ProbePrefix(bytes, count, bytes.Length);
        if (DecidedByTheirBeginning.Contains(name))
        {
            Assert.NotNull(prefix);
        }
        if (NeedTheWholeFile.Contains(name))
        {
            Assert.Null(prefix);
        }
        if (prefix is { } found)
        {
            Assert.Equal(whole, found);
        }
    }

    [Fact]
    public void AnMp4WithItsMoovFirst_IsDecidedByTheMoov()
    {
        var bytes = GeneratedAudio.Get("faststart.m4a", 20.0, 44100, 1, "-c:a", "aac", "-movflags", "+faststart");
        Assert.True(bytes.Length > 64 * 1024);
        var whole = AudioProbe.Probe(new MemoryStream(bytes));
        Assert.Equal(whole, AudioProbe.ProbePrefix(bytes, 16 * 1024, bytes.Length));
    }

    [Fact]
    public void ALengthBound_BoundsTheDuration_AndTheExactLength_GivesTheTruncatedFilesAnswer()
    {
        var bytes = GeneratedAudio.Get("s16.wav", 3.2, 44100, 1, "-c:a", "pcm_s16le");
        // A WAV cut short: its header still claims the whole data chunk.
        var truncated = bytes[..(bytes.Length / 2)];
        var exact = AudioProbe.ProbePrefix(truncated, 4096, truncated.Length);
        Assert.Equal(AudioProbe.Probe(new MemoryStream(truncated)), exact);
        // While the rest is arriving, only an upper bound of the length is known: the duration is bounded by it.
        var bounded = AudioProbe.ProbePrefix(truncated, 4096, bytes.Length)!.Value;
        Assert.Equal(AudioProbe.Probe(new MemoryStream(bytes)).Info.DurationMs, bounded.Info.DurationMs);
        Assert.True(exact!.Value.Info.DurationMs < bounded.Info.DurationMs);
    }

    [Fact]
    public void AnEmptyFile_IsEmpty()
    {
        Assert.Equal(ProbeError.Empty, AudioProbe.ProbePrefix([], 0, 0)!.Value.Error);
    }
}
