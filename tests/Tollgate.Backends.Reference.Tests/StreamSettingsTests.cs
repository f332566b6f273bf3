using Tollgate.Models;

namespace Tollgate.Backends.Reference;

public sealed class StreamSettingsTests
{
    public static TheoryData<string, string, string> BadQueries => new()
    {
        { "velma-2-stt-streaming", "audio_format=mp4",
          "Invalid audio_format='mp4'. Valid values: ['aac', 'aiff', 'alaw', 'f32be', 'f32le', 'f64be', 'f64le', 'flac', 'mp3', 'mulaw', 'ogg', 's16be', 's16le', 's24be', 's24le', 's32be', 's32le', 's8', 'u16be', 'u16le', 'u24be', 'u24le', 'u32be', 'u32le', 'u8', 'wav', 'webm']" },
        { "velma-2-synthetic-voice-detection-streaming", "audio_format=mp2",
          "Invalid audio_format='mp2'. Valid values: ['3gp', '3gpp', 'aac', 'aiff', 'alaw', 'amr', 'au', 'f32be', 'f32le', 'f64be', 'f64le', 'flac', 'm4a', 'mp3', 'mp4', 'mulaw', 'ogg', 'opus', 's16be', 's16le', 's24be', 's24le', 's32be', 's32le', 's8', 'u16be', 'u16le', 'u24be', 'u24le', 'u32be', 'u32le', 'u8', 'wav', 'webm', 'wma']" },
        { "velma-2-stt-streaming", "audio_format=s16le", "Raw audio formats require sample_rate and num_channels query parameters" },
        { "velma-2-stt-streaming", "audio_format=mulaw&sample_rate=8000", "Raw audio formats require sample_rate and num_channels query parameters" },
        { "velma-2-stt-streaming", "sample_rate=16000", "sample_rate and num_channels require audio_format to be specified" },
        { "velma-2-streaming", "num_channels=1", "sample_rate and num_channels require audio_format to be specified" },
        { "velma-2-stt-streaming", "audio_format=s16le&sample_rate=50000&num_channels=1",
          "Invalid sample_rate=50000. Valid values: [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000]" },
        { "velma-2-stt-streaming", "audio_format=s16le&sample_rate=16000&num_channels=12", "Invalid num_channels=12. Must be between 1 and 8" },
        { "velma-2-stt-streaming", "audio_format=s16le&sample_rate=16000&num_channels=0", "Invalid num_channels=0. Must be between 1 and 8" },
        { "velma-2-music-detection-streaming", "",
          "audio_format query parameter is required. Example: audio_format=s16le&sample_rate=16000&num_channels=1" },
        { "velma-2-synthetic-voice-detection-streaming", "sample_rate=16000",
          "audio_format query parameter is required. Example: audio_format=s16le&sample_rate=16000&num_channels=1" },
        { "velma-2-stt-streaming", "language=english", "Invalid language='english'. Expected an ISO 639-1 language code (e.g. 'en', 'fr')." },
        { "velma-2-pii-phi-redaction-streaming", "language=e", "Invalid language='e'. Expected an ISO 639-1 language code (e.g. 'en', 'fr')." },
        { "velma-2-stt-streaming", "emotion_signal=maybe", "Invalid emotion_signal='maybe'. Expected true or false" },
        { "velma-2-pii-phi-redaction-streaming", "start_redaction_padding_ms=-5", "Invalid start_redaction_padding_ms='-5'. Must be an integer >= 0" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public void BadParameters_GetTheContractsText(string model, string query, string expected)
    {
        Assert.False(StreamSettings.TryParse(ModelCatalog.Get(model), Parse(query), out var settings, out var error));
        Assert.Null(settings);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void RawFormat_IsParsed()
    {
        var settings = StreamAnalyzerTests.Settings("velma-2-stt-streaming", "audio_format=f32be&sample_rate=44100&num_channels=2&api_unused=1");

        Assert.Equal(("f32be", 44_100, 2), (settings.Raw!.Value.Name, settings.SampleRate, settings.Channels));
        Assert.Equal("f32be", settings.AudioFormat);
        Assert.True(settings.AcceptsConfigFrame);
        Assert.False(settings.RequiresConfigFrame);
    }

    [Fact]
    public void NoFormat_MeansAutoDetect_WhereTheContractAllowsIt()
    {
        var settings = StreamAnalyzerTests.Settings("velma-2-streaming", "");

        Assert.Null(settings.AudioFormat);
        Assert.Null(settings.Raw);
        Assert.True(settings.RequiresConfigFrame);
        Assert.Equal(1003, settings.BadAudioCloseCode);
    }

    [Fact]
    public void Container_WithSampleRate_UsesTheHeaderInstead()
    {
        var settings = StreamAnalyzerTests.Settings("velma-2-music-detection-streaming", "audio_format=wav&sample_rate=16000");

        Assert.Null(settings.Raw);
        Assert.Equal(0, settings.SampleRate);
        Assert.Equal(4002, settings.BadAudioCloseCode);
    }

    [Fact]
    public void SttConfigFrame_OverridesTheQuery()
    {
        var settings = StreamAnalyzerTests.Settings("velma-2-stt-streaming", "audio_format=s16le&sample_rate=16000&num_channels=1&language=de");

        Assert.True(settings.TryApplyConfig("""{"emotion_signal": true, "language": "fr", "partial_results": true, "custom_terms": ["Tollgate", {"term": "Velma", "pronunciations": ["VEL-muh"]}]}""", out var error), error);

        Assert.Equal(("fr", true, true, 2), (settings.Stt.Language, settings.Stt.EmotionSignal, settings.Stt.PartialResults, settings.Stt.CustomTermCount));
    }

    [Theory]
    [InlineData("not json", "Invalid configuration.")]
    [InlineData("[1, 2]", "Invalid configuration.")]
    [InlineData("""{"emotion_signal": "yes"}""", "Invalid configuration.")]
    [InlineData("""{"custom_terms": [{"term": ""}]}""", "Invalid configuration.")]
    [InlineData("""{"language": "x"}""", "Invalid language='x'. Expected an ISO 639-1 language code (e.g. 'en', 'fr').")]
    public void SttConfigFrame_Invalid(string frame, string expected)
    {
        var settings = StreamAnalyzerTests.Settings("velma-2-stt-streaming", "");

        Assert.False(settings.TryApplyConfig(frame, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("default", true)]
    [InlineData("\"default\"", true)]
    [InlineData("""{"stt": {"accent_signal": true}, "behaviors": ["preset:profanity"]}""", true)]
    [InlineData("""{"behaviors": ["preset:nope"]}""", false)]
    [InlineData("""{"conversation_types": [{"conversation_type_uuid": "not-a-uuid", "name": "x", "short_description": "", "detailed_description": ""}]}""", false)]
    [InlineData("defaults", false)]
    public void VelmaConfigFrame(string frame, bool valid)
    {
        var settings = StreamAnalyzerTests.Settings("velma-2-streaming", "");

        Assert.Equal(valid, settings.TryApplyConfig(frame, out var error));
        Assert.Equal(valid ? null : "Invalid configuration.", error);
    }

    private static Dictionary<string, string> Parse(string query) => query.Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
}
