using System.Collections.Frozen;

namespace Tollgate.Models;

/// <summary>How a model is reached on the wire.</summary>
internal enum ModelKind
{
    /// <summary>HTTP POST multipart upload, one JSON (or multipart) answer.</summary>
    Batch,
    /// <summary>WebSocket: binary audio frames in, JSON events out.</summary>
    Streaming,
}

/// <summary>
/// One model of the Models API as its contract describes it: its name (the path's last segment),
/// how it is called and which audio it accepts.
/// </summary>
internal sealed record ModelDescriptor
{
    public required string Name { get; init; }
    public required ModelKind Kind { get; init; }

    /// <summary>Batch: the upload file extensions the contract lists (lower case, no dot), in contract order.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];

    /// <summary>Streaming: the accepted values of the <c>audio_format</c> query parameter.</summary>
    public IReadOnlyList<string> StreamFormats { get; init; } = [];

    /// <summary>Streaming: whether <c>audio_format</c> must be given.</summary>
    public bool AudioFormatRequired { get; init; }

    /// <summary>Shortest audio accepted, in milliseconds (synthetic-voice detection: 500).</summary>
    public long MinDurationMs { get; init; }

    /// <summary>The batch endpoint answers 403 (not 401) for bad keys, as its contract says.</summary>
    public bool ForbiddenForBadKeys { get; init; }

    /// <summary>Whether the model also exposes <c>GET /api/{name}/list-presets</c>.</summary>
    public bool HasPresets { get; init; }

    /// <summary>
    /// Batch: audio that cannot be decoded is 422 "could not be processed" (synthetic-voice detection's contract),
    /// not the 400 the other batch contracts document.
    /// </summary>
    public bool UnprocessableAudioIs422 { get; init; }

    /// <summary>Batch: a malformed form field is 422, as the accent and emotion contracts document (others say 400).</summary>
    public bool MalformedFieldIs422 { get; init; }

    /// <summary>Streaming: close code 4002 is used for undecodable audio (otherwise 1003).</summary>
    public bool Uses4002ForBadAudio { get; init; }

    /// <summary>The "Supported formats: .a, .b." sentence of the contract's 400 answer.</summary>
    public string SupportedFormatsSentence =>
        "Unsupported file format. Supported formats: " + string.Join(", ", Extensions.Order(StringComparer.Ordinal).Select(e => "." + e)) + ".";
}

/// <summary>Every model of the published contracts (<c>contracts/modulate</c>).</summary>
internal static class ModelCatalog
{
    private static readonly string[] StandardExtensions = ["aac", "aiff", "flac", "mov", "mp3", "mp4", "ogg", "opus", "wav", "webm"];
    private static readonly string[] MusicExtensions = ["aac", "flac", "m4a", "mp3", "mp4", "ogg", "opus", "wav"];
    private static readonly string[] SyntheticVoiceExtensions =
        ["3gp", "3gpp", "aac", "aiff", "amr", "au", "flac", "m4a", "mov", "mp3", "mp4", "ogg", "opus", "wav", "webm", "wma"];

    /// <summary>Raw, headerless sample layouts: they need <c>sample_rate</c> and <c>num_channels</c>.</summary>
    public static readonly IReadOnlyList<string> RawFormats =
    [
        "s8", "s16le", "s16be", "s24le", "s24be", "s32le", "s32be",
        "u8", "u16le", "u16be", "u24le", "u24be", "u32le", "u32be",
        "f32le", "f32be", "f64le", "f64be", "mulaw", "alaw",
    ];

    private static readonly string[] StandardStreamFormats = [.. RawFormats, "wav", "mp3", "ogg", "flac", "webm", "aac", "aiff"];
    private static readonly string[] SyntheticVoiceStreamFormats =
        [.. StandardStreamFormats, "au", "wma", "opus", "amr", "mp4", "m4a", "3gp", "3gpp"];

    /// <summary>Sample rates the streaming contracts accept.</summary>
    public static readonly IReadOnlyList<int> SampleRates = [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000];

    public static readonly IReadOnlyList<ModelDescriptor> All =
    [
        Batch("velma-2-batch", StandardExtensions) with { HasPresets = true },
        Batch("velma-2-stt-batch", StandardExtensions),
        Batch("velma-2-stt-batch-english-vfast", StandardExtensions),
        Batch("velma-2-stt-batch-multilingual-vfast", StandardExtensions),
        Batch("velma-2-accent-batch", StandardExtensions) with { MalformedFieldIs422 = true },
        Batch("velma-2-emotion-batch", StandardExtensions) with { MalformedFieldIs422 = true },
        Batch("velma-2-language-detection-batch", StandardExtensions),
        Batch("velma-2-pii-phi-redaction-batch", StandardExtensions),
        Batch("velma-2-music-detection-batch", MusicExtensions),
        Batch("velma-2-ai-music-detection-batch", MusicExtensions),
        Batch("velma-2-synthetic-voice-detection-batch", SyntheticVoiceExtensions) with { MinDurationMs = 500, ForbiddenForBadKeys = true, UnprocessableAudioIs422 = true },
        Streaming("velma-2-streaming", StandardStreamFormats, required: false) with { HasPresets = true },
        Streaming("velma-2-stt-streaming", StandardStreamFormats, required: false),
        Streaming("velma-2-stt-streaming-english-v2", StandardStreamFormats, required: true),
        Streaming("velma-2-pii-phi-redaction-streaming", StandardStreamFormats, required: false),
        Streaming("velma-2-synthetic-voice-detection-streaming", SyntheticVoiceStreamFormats, required: true),
        Streaming("velma-2-music-detection-streaming", StandardStreamFormats, required: true),
        Streaming("velma-2-ai-music-detection-streaming", StandardStreamFormats, required: true),
    ];

    private static readonly FrozenDictionary<string, ModelDescriptor> ByName =
        All.ToFrozenDictionary(m => m.Name, StringComparer.Ordinal);

    /// <summary>Look-ups by a span of a path, without allocating a string.</summary>
    public static FrozenDictionary<string, ModelDescriptor>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; } =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    public static IEnumerable<string> Names => All.Select(m => m.Name);

    public static bool TryGet(string name, out ModelDescriptor model)
    {
        if (ByName.TryGetValue(name, out var found))
        {
            model = found;
            return true;
        }
        model = null!;
        return false;
    }

    public static ModelDescriptor Get(string name) =>
        ByName.TryGetValue(name, out var m) ? m : throw new KeyNotFoundException($"No model named '{name}'.");

    private static ModelDescriptor Batch(string name, string[] extensions) =>
        new() { Name = name, Kind = ModelKind.Batch, Extensions = extensions };

    private static ModelDescriptor Streaming(string name, string[] formats, bool required) =>
        new() { Name = name, Kind = ModelKind.Streaming, StreamFormats = formats, AudioFormatRequired = required, Uses4002ForBadAudio = required };
}
