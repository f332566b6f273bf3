using Tollgate.Models;

namespace Tollgate.Backends.Reference;

public sealed class BatchOptionsTests
{
    private const string LanguageError = "Invalid language='english'. Expected an ISO 639-1 language code (e.g. 'en', 'fr').";

    public static TheoryData<string, string, string, int, string, string> Invalid => new()
    {
        { "velma-2-stt-batch", "language", "english", 400, "invalid_parameter", LanguageError },
        { "velma-2-stt-batch", "speaker_diarization", "sometimes", 400, "invalid_parameter", "Invalid request." },
        { "velma-2-stt-batch", "config", "{not json", 400, "invalid_configuration", "Invalid configuration." },
        { "velma-2-stt-batch", "config", """{"deepfake_signal": 1}""", 400, "invalid_configuration", "Invalid configuration." },
        { "velma-2-stt-batch", "config", """{"language": "english"}""", 400, "invalid_parameter", LanguageError },
        { "velma-2-stt-batch", "config", """{"custom_terms": [{"term": "x", "definition": "%DEF%"}]}""", 400, "invalid_configuration", "Invalid configuration." },
        { "velma-2-pii-phi-redaction-batch", "start_redaction_padding_ms", "-1", 400, "invalid_parameter", "Invalid request." },
        { "velma-2-pii-phi-redaction-batch", "end_redaction_padding_ms", "ten", 400, "invalid_parameter", "Invalid request." },
        { "velma-2-pii-phi-redaction-batch", "language", "english", 400, "invalid_parameter", LanguageError },
        { "velma-2-stt-batch-multilingual-vfast", "language", "english", 400, "invalid_parameter", LanguageError },
        { "velma-2-accent-batch", "use_ensemble", "perhaps", 422, "invalid_parameter", "Invalid request." },
        { "velma-2-emotion-batch", "training_permitted", "perhaps", 422, "invalid_parameter", "Invalid request." },
        { "velma-2-batch", "config", """{"behaviors": ["preset:no-such-preset"]}""", 422, "invalid_configuration", "Invalid configuration." },
        { "velma-2-batch", "config", """{"participant_roles": [{"participant_role_uuid": "2f1e0c9a-3b44-4c1e-9a1d-0f2b3c4d5e6f", "name": ""}]}""", 422, "invalid_configuration", "Invalid configuration." },
        { "velma-2-batch", "config", """{"produce_topics": "true"}""", 422, "invalid_configuration", "Invalid configuration." },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidFields_GetTheContractsStatusAndText(string model, string field, string value, int status, string code, string detail)
    {
        value = value.Replace("%DEF%", new string('d', 257));

        Assert.False(BatchOptions.TryParse(ModelCatalog.Get(model), new Dictionary<string, string> { [field] = value }, out var options, out var error));

        Assert.Null(options);
        Assert.Equal(new BatchOptionsError(status, code, detail), error);
    }

    [Fact]
    public void Stt_ConfigOverridesTheFormFields()
    {
        var fields = new Dictionary<string, string>
        {
            ["speaker_diarization"] = "false",
            ["emotion_signal"] = "true",
            ["language"] = "en-US",
            ["config"] = """{"emotion_signal": false, "accent_signal": true, "language": null}""",
        };

        Assert.True(BatchOptions.TryParse(ModelCatalog.Get("velma-2-stt-batch"), fields, out var options, out _));

        var stt = options!.Stt;
        Assert.Equal((false, false, true, null), (stt.SpeakerDiarization, stt.EmotionSignal, stt.AccentSignal, stt.Language));
    }

    [Fact]
    public void Defaults_AreTheContracts()
    {
        Assert.True(BatchOptions.TryParse(ModelCatalog.Get("velma-2-pii-phi-redaction-batch"), new Dictionary<string, string> { ["language"] = "" }, out var pii, out _));
        Assert.Equal((100, 0, true, null), (pii!.StartRedactionPaddingMs, pii.EndRedactionPaddingMs, pii.Stt.SpeakerDiarization, pii.Stt.Language));

        Assert.True(BatchOptions.TryParse(ModelCatalog.Get("velma-2-batch"), new Dictionary<string, string>(), out var velma, out _));
        Assert.Same(Velma.VelmaConfig.Default, velma!.Velma);
        Assert.Equal(3, velma.Velma.ConversationTypes.Count);
        Assert.NotNull(velma.Velma.DefaultConversationType);
    }

    [Fact]
    public void Velma_FullConfig_IsRead()
    {
        const string config = """
            {
              "conversation_types": [{"conversation_type_uuid": "11111111-1111-4111-8111-111111111111", "name": "Support", "short_description": "s", "detailed_description": "d"}],
              "participant_roles": [],
              "behaviors": ["preset:complaints", {"behavior_uuid": "22222222-2222-4222-8222-222222222222", "name": "Greets", "short_description": "", "detailed_description": "", "applies_to_participant_role_uuids": null}],
              "stt": {"language": "ES", "emotion_signal": true, "custom_terms": null},
              "produce_topics": false,
              "default_conversation_type": null,
              "default_participant_role": null,
              "unknown_key": 5
            }
            """;

        Assert.True(BatchOptions.TryParse(ModelCatalog.Get("velma-2-batch"), new Dictionary<string, string> { ["config"] = config }, out var options, out _));

        var velma = options!.Velma;
        Assert.Equal("Support", Assert.Single(velma.ConversationTypes).Name);
        Assert.Empty(velma.ParticipantRoles);
        Assert.Equal(["Complaints", "Greets"], velma.Behaviors.Select(b => b.Name));
        Assert.Equal(("es", true), (velma.Stt.Language, velma.Stt.EmotionSignal));
        Assert.False(velma.ProduceTopics);
        Assert.Null(velma.DefaultConversationType);
        Assert.Null(velma.DefaultParticipantRole);
    }

    [Fact]
    public void UndocumentedFields_AreIgnored()
    {
        Assert.True(BatchOptions.TryParse(ModelCatalog.Get("velma-2-music-detection-batch"), new Dictionary<string, string> { ["language"] = "english" }, out var options, out var error));
        Assert.NotNull(options);
        Assert.Null(error);
    }
}
