using System.Text.Json.Nodes;

namespace Tollgate.Contracts;

/// <summary>The validator itself must be able to fail, or the contract tests prove nothing.</summary>
public sealed class ContractDocumentTests
{
    private static readonly ContractDocument Stt = ContractDocument.OpenApi("stt-batch-openapi.yml");

    [Fact]
    public void Validate_TheContractsOwnExample_Passes()
    {
        var example = Stt.Resolve("#/paths/~1api~1velma-2-stt-batch/post/responses/200/content/application~1json/examples/multilingual/value");
        Assert.Empty(Stt.Validate(example, Stt.ResponseSchema("/api/velma-2-stt-batch")));
    }

    [Fact]
    public void Validate_MissingRequiredWrongTypeAndOutOfRange_AreAllReported()
    {
        var bad = JsonNode.Parse("""
            {"text": 5, "utterances": [{"utterance_uuid": "nope", "text": "", "start_ms": -1, "duration_ms": 1,
              "speaker": 1, "language": "en", "emotion": null, "accent": null, "deepfake_score": 1.5}]}
            """);
        var errors = Stt.Validate(bad, Stt.ResponseSchema("/api/velma-2-stt-batch"));
        Assert.Contains(errors, e => e.Contains("duration_ms") && e.Contains("missing"));
        Assert.Contains(errors, e => e.Contains("$.text") && e.Contains("type string"));
        Assert.Contains(errors, e => e.Contains("utterance_uuid") && e.Contains("uuid"));
        Assert.Contains(errors, e => e.Contains("start_ms") && e.Contains("minimum"));
        Assert.Contains(errors, e => e.Contains("deepfake_score"));
    }
}
