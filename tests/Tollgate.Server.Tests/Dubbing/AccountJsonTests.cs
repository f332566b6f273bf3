using System.Text.Json;
using Tollgate.Server.Dubbing;

namespace Tollgate.Dubbing;

/// <summary><c>GET /v1/me</c> writes a key's models from JSON made once per key: the bytes must be the serializer's own.</summary>
public sealed class AccountJsonTests
{
    [Fact]
    public void TheAnswerWithPreparedModels_IsByteForByteTheSerializersAnswer()
    {
        var models = new Dictionary<string, AccountModelDto>(StringComparer.Ordinal)
        {
            ["velma-2-batch"] = new(3, 12.5),
            ["velma-2-stt-batch"] = new(5, 0.25),
            ["zeta <\"quoted\">"] = new(1, 1e-3),
        };
        AccountDto Dto(IReadOnlyDictionary<string, AccountModelDto> m) => new("usr_1", "Ana Ñ", "org_1", null, "key_1", 100, 7, 93, "2026-12",
            new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), m);

        var expected = JsonSerializer.Serialize(Dto(models), DubbingJson.Options);
        var prepared = JsonSerializer.Serialize(Dto(new KeyModelsJson(models)), KeyModelsJson.AccountType());
        var plain = JsonSerializer.Serialize(Dto(models), KeyModelsJson.AccountType());

        Assert.Contains("\"models\":{\"velma-2-batch\":{\"concurrency\":3,\"monthlyAudioHours\":12.5}", expected);
        Assert.Equal(expected, prepared);
        Assert.Equal(expected, plain);
    }
}
