using System.Text.Json.Nodes;
using Tollgate.Backends.Reference.Signal;

namespace Tollgate.Backends.Reference.Contracts;

/// <summary>
/// The AI-music clip-level fields: vocal, instrumental and silence shares averaged across the windows, and every
/// AI figure at 0 with the verdict "not-ai-music" (the reference has no AI-music detector). Without windows (no
/// audio, or audio it cannot decode) every share is 0.
/// </summary>
internal sealed class AiMusicTally
{
    private double _vocal;
    private double _instrumental;
    private double _silence;

    public int WindowCount { get; private set; }

    public void Add(MusicWindow window)
    {
        WindowCount++;
        _vocal += window.VocalPct;
        _instrumental += window.InstrumentalPct;
        _silence += window.SilencePct;
    }

    /// <summary>Writes the clip-level fields into <paramref name="json"/>.</summary>
    public JsonObject WriteSummary(JsonObject json)
    {
        json["primary_verdict"] = "not-ai-music";
        json["vocal_percentage"] = Average(_vocal);
        json["vocal_ai_percentage"] = 0.0;
        json["vocal_ai_confidence"] = 0.0;
        json["instrumental_percentage"] = Average(_instrumental);
        json["instrumental_ai_percentage"] = 0.0;
        json["instrumental_ai_confidence"] = 0.0;
        json["silence_percentage"] = Average(_silence);
        return json;
    }

    private double Average(double sum) => WindowCount == 0 ? 0.0 : Math.Round(sum / WindowCount, 2);
}
