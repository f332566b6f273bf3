using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Contracts;

/// <summary>
/// The music-detection summary: the share of the analysed time whose frames scored as music and as speech
/// (percent, one decimal), and the primary label by the contract's rules (music if it covers at least as much as
/// speech and more than zero; speech if more; neither if both are zero; unknown without frames).
/// </summary>
internal sealed class MusicTally
{
    private long _musicMs;
    private long _speechMs;
    private long _totalMs;

    public int FrameCount { get; private set; }

    public void Add(MusicFrame frame)
    {
        var span = frame.EndMs - frame.StartMs;
        FrameCount++;
        _totalMs += span;
        _musicMs += frame.IsMusic ? span : 0;
        _speechMs += frame.IsSpeech ? span : 0;
    }

    public double MusicPct => Pct(_musicMs);

    public double SpeechPct => Pct(_speechMs);

    public string PrimaryLabel =>
        FrameCount == 0 ? "unknown"
        : _musicMs > 0 && _musicMs >= _speechMs ? "music"
        : _speechMs > 0 ? "speech"
        : "neither";

    private double Pct(long ms) => _totalMs == 0 ? 0.0 : Math.Round(100.0 * ms / _totalMs, 1);
}
