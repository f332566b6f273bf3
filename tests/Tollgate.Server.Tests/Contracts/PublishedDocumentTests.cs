using System.Text.Json.Nodes;
using Tollgate.Infrastructure;
using Tollgate.Models;

namespace Tollgate.Contracts;

/// <summary>
/// Tollgate's own API reference, read from a running server, says what the published contracts say: every batch
/// operation's parameters, request fields (types, enums, defaults) and responses (every status with its schema) are
/// the contract's, every streaming channel's query parameters are its AsyncAPI document's and that document is served,
/// and every operation names the credential it takes. Compared field by field after resolving every reference, so
/// neither side can drift.
/// </summary>
public sealed class PublishedDocumentTests : IAsyncLifetime
{
    private TollgateServer _server = null!;
    private JsonObject _document = null!;

    public async Task InitializeAsync()
    {
        _server = await TollgateServer.StartAsync();
        using var client = _server.CreateClient();
        _document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!.AsObject();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string, string> ContractOperations()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var file in Directory.GetFiles(Path.Combine(ContractDocument.ContractsDirectory, "openapi")).Order().Append(PlatformContract))
        {
            var contract = YamlFile(file);
            foreach (var (path, item) in contract["paths"]!.AsObject())
            {
                foreach (var (method, _) in item!.AsObject())
                {
                    data.Add(Path.GetFileName(file), path, method);
                }
            }
        }
        return data;
    }

    /// <summary>The Platform API's contract, reconstructed from its public documentation (see its NOTES.md).</summary>
    private static string PlatformContract => Path.Combine(ContractDocument.ContractsDirectory, "..", "modulate-platform", "platform-api-openapi.yml");

    private static string ContractPath(string file) =>
        file == Path.GetFileName(PlatformContract) ? PlatformContract : Path.Combine(ContractDocument.ContractsDirectory, "openapi", file);

    public static TheoryData<string> StreamingModels() =>
        [.. ModelCatalog.All.Where(m => m.Kind == ModelKind.Streaming).Select(m => m.Name)];

    [Fact]
    public void EveryContractOperation_IsCompared() => Assert.Equal(14, ContractOperations().Count);

    [Theory]
    [MemberData(nameof(ContractOperations))]
    public void ABatchOperation_HasTheContractsParametersRequestFieldsAndResponses(string file, string path, string method)
    {
        var contract = YamlFile(ContractPath(file));
        var expected = contract["paths"]![path]![method]!.AsObject();
        var actual = _document["paths"]![path]?[method]?.AsObject();
        Assert.True(actual is not null, $"{method.ToUpperInvariant()} {path} is missing from /openapi/v1.json");

        AssertSame(contract, expected["parameters"], actual!["parameters"], $"{path} parameters");
        AssertSame(contract, expected["requestBody"], actual["requestBody"], $"{path} request body");
        foreach (var (status, response) in expected["responses"]!.AsObject())
        {
            AssertSame(contract, response, actual["responses"]?[status], $"{path} response {status}");
        }
        // Tollgate's own refusals stay documented beside the contract's.
        if (method == "post")
        {
            Assert.NotNull(actual["responses"]!["401"]);
            Assert.NotNull(actual["responses"]!["413"]);
        }
        Assert.Equal(path.StartsWith("/api_service", StringComparison.Ordinal) ? "AccountUuid+ApiKey" : "ApiKeyAuth", SchemeOf(actual));
    }

    [Fact]
    public void TheRequestFields_OfABatchOperation_CarryTypesEnumsAndDefaults()
    {
        var body = Inline(_document, _document["paths"]!["/api/velma-2-stt-batch"]!["post"]!["requestBody"]!);
        var fields = body["content"]!["multipart/form-data"]!["schema"]!["properties"]!.AsObject();
        Assert.Equal("binary", fields["upload_file"]!["format"]!.GetValue<string>());
        Assert.True(fields["speaker_diarization"]!["default"]!.GetValue<bool>());
        Assert.Equal("boolean", fields["emotion_signal"]!["type"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(StreamingModels))]
    public async Task AStreamingChannel_HasItsAsyncApiQueryParameters_AndItsDocumentIsServed(string model)
    {
        var file = Directory.GetFiles(Path.Combine(ContractDocument.ContractsDirectory, "asyncapi"))
            .Single(f => File.ReadAllText(f).Contains($"address: /api/{model}\n", StringComparison.Ordinal));
        var channel = YamlFile(file)["channels"]!.AsObject().Select(c => c.Value!).Single(c => c["address"]!.GetValue<string>() == "/api/" + model);
        var query = channel["bindings"]!["ws"]!["query"]!;
        var required = query["required"]!.AsArray().Select(r => r!.GetValue<string>()).ToHashSet();

        var operation = _document["paths"]!["/api/" + model]!["get"]!;
        var parameters = operation["parameters"]!.AsArray().ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!);
        Assert.Equal(query["properties"]!.AsObject().Select(p => p.Key).Order(), parameters.Keys.Order());
        foreach (var (name, schema) in query["properties"]!.AsObject())
        {
            var parameter = parameters[name];
            Assert.Equal("query", parameter["in"]!.GetValue<string>());
            Assert.Equal(required.Contains(name), parameter["required"]!.GetValue<bool>());
            var expected = schema!.DeepClone().AsObject();
            expected.Remove("description");
            Assert.True(JsonNode.DeepEquals(expected, parameter["schema"]), $"{model} ?{name}: {expected.ToJsonString()} vs {parameter["schema"]!.ToJsonString()}");
        }
        Assert.Contains($"/asyncapi/{model}.yaml", operation["description"]!.GetValue<string>());
        Assert.Equal("ApiKeyQuery", SchemeOf(operation));

        using var client = _server.CreateClient();
        using var served = await client.GetAsync($"/asyncapi/{model}.yaml");
        Assert.Equal("application/yaml", served.Content.Headers.ContentType!.MediaType);
        Assert.Equal(await File.ReadAllTextAsync(file), await served.Content.ReadAsStringAsync());
        Assert.Contains($"/asyncapi/{model}.yaml", _document["info"]!["description"]!.GetValue<string>());
    }

    [Fact]
    public void EveryOperation_NamesTheCredentialOfItsSurface_AndTheSchemesAreDeclared()
    {
        var schemes = _document["components"]!["securitySchemes"]!;
        Assert.Equal(("apiKey", "header", "X-API-Key"), Scheme(schemes["ApiKeyAuth"]!));
        Assert.Equal(("apiKey", "query", "api_key"), Scheme(schemes["ApiKeyQuery"]!));
        Assert.Equal(("apiKey", "header", "Authorization"), Scheme(schemes["DubbingApiKey"]!));
        Assert.Equal(("http", "bearer"), (schemes["AdminToken"]!["type"]!.GetValue<string>(), schemes["AdminToken"]!["scheme"]!.GetValue<string>()));

        Assert.Equal(("apiKey", "header", "accountuuid"), Scheme(schemes["AccountUuid"]!));
        Assert.Equal(("apiKey", "header", "apikey"), Scheme(schemes["ApiKey"]!));
        Assert.Equal(("apiKey", "query", "token"), Scheme(schemes["PlatformRealtimeToken"]!));
        var expected = new Dictionary<string, string>
        {
            ["/api/"] = "ApiKey", ["/v1/"] = "DubbingApiKey", ["/admin/"] = "AdminToken",
            ["/api_service/realtime/"] = "PlatformRealtimeToken", ["/api_service"] = "AccountUuid+ApiKey",
        };
        var count = 0;
        foreach (var (path, item) in _document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var scheme = SchemeOf(operation!);
                var prefix = expected.Keys.Where(p => path.StartsWith(p, StringComparison.Ordinal)).MaxBy(p => p.Length)!;
                Assert.True(scheme?.StartsWith(expected[prefix], StringComparison.Ordinal) == true, $"{method} {path}: {scheme}");
                count++;
            }
        }
        Assert.True(count >= 40, $"only {count} operations");
    }

    [Fact]
    public void EveryAdminOperation_DescribesItsBodyAndItsAnswers()
    {
        foreach (var (path, item) in _document["paths"]!.AsObject().Where(p => p.Key.StartsWith("/admin/", StringComparison.Ordinal)))
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var responses = operation!["responses"]!.AsObject();
                var success = responses.Single(r => r.Key.StartsWith('2'));
                if (success.Key != "204")
                {
                    Assert.True(success.Value!["content"]?["application/json"]?["schema"] is not null, $"{method} {path}: {success.Key} has no schema");
                }
                Assert.True(responses.ContainsKey("401"), $"{method} {path}: no 401");
                if (method == "post" && !path.EndsWith("/disable", StringComparison.Ordinal) && !path.EndsWith("/enable", StringComparison.Ordinal))
                {
                    // Every POST but disable/enable takes a JSON body: create calls a name, rotate an (optional) overlap.
                    var schema = Inline(_document, operation["requestBody"]!["content"]!["application/json"]!["schema"]!);
                    var field = path.EndsWith("/rotate", StringComparison.Ordinal) ? "overlap" : "name";
                    Assert.True(schema["properties"]!.AsObject().ContainsKey(field), $"{method} {path}: {schema.ToJsonString()}");
                    Assert.True(responses.ContainsKey("400") && responses.ContainsKey("413") && responses.ContainsKey("415"), $"{method} {path}");
                }
                else
                {
                    Assert.Null(operation["requestBody"]);
                }
            }
        }
        var key = Inline(_document, _document["paths"]!["/admin/orgs/{orgId}/users/{userId}/keys"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!);
        var limits = Inline(_document, key["properties"]!["models"]!["additionalProperties"]!);
        Assert.Contains("monthly_audio_hours", limits["properties"]!.AsObject().Select(p => p.Key));

        // The calls the Admin API completeness added, each with its answer's schema.
        foreach (var (path, method, status, property) in new[]
        {
            ("/admin/orgs", "get", "200", "next"),
            ("/admin/orgs/{orgId}/users", "get", "200", "items"),
            ("/admin/orgs/{orgId}/keys", "get", "200", "next"),
            ("/admin/orgs/{orgId}/users/{userId}", "get", "200", "disabled_at"),
            ("/admin/users/{userId}", "get", "200", "disabled_at"),
            ("/admin/users/{userId}/disable", "post", "200", "disabled_at"),
            ("/admin/users/{userId}/enable", "post", "200", "disabled_at"),
            ("/admin/keys/{keyId}/rotate", "post", "201", "replaced"),
            ("/admin/keys/{keyId}/usage", "get", "200", "used_ms"),
            ("/admin/users/{userId}/usage", "get", "200", "used_ms"),
            ("/admin/tokens", "post", "201", "token"),
            ("/admin/tokens", "get", "200", "items"),
            ("/admin/keys/{keyId}", "get", "200", "expires_at"),
        })
        {
            var operation = _document["paths"]![path]![method]!;
            var answer = Inline(_document, operation["responses"]![status]!["content"]!["application/json"]!["schema"]!);
            Assert.True(answer["properties"]!.AsObject().ContainsKey(property), $"{method} {path}: {answer.ToJsonString()}");
        }
        Assert.False(_document["paths"]!["/admin/keys/{keyId}/rotate"]!["post"]!["requestBody"]!["required"]?.GetValue<bool>() ?? false);
        Assert.NotNull(_document["paths"]!["/admin/tokens/{tokenId}"]!["delete"]!["responses"]!["204"]);
        Assert.NotNull(_document["paths"]!["/admin/orgs"]!["get"]!["responses"]!["403"]);
    }

    [Fact]
    public void EveryReference_InTheDocument_Resolves()
    {
        var references = new List<string>();
        Collect(_document, references);
        Assert.NotEmpty(references);
        foreach (var reference in references.Distinct())
        {
            Assert.NotNull(Resolve(_document, reference));
        }
    }

    private void AssertSame(JsonObject contract, JsonNode? expected, JsonNode? actual, string what)
    {
        var want = expected is null ? null : Inline(contract, expected);
        var got = actual is null ? null : Inline(_document, actual);
        Assert.True(JsonNode.DeepEquals(want, got), $"{what} differs:\ncontract: {want?.ToJsonString()}\ntollgate: {got?.ToJsonString()}");
    }

    /// <summary>A copy of <paramref name="node"/> with every local reference replaced by what it points to.</summary>
    private static JsonNode Inline(JsonObject root, JsonNode node, int depth = 0)
    {
        Assert.True(depth < 32, "reference cycle");
        switch (node)
        {
            case JsonObject o when o["$ref"]?.GetValue<string>() is { } reference:
                return Inline(root, Resolve(root, reference) ?? throw new KeyNotFoundException(reference), depth + 1);
            case JsonObject o:
                return new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Inline(root, p.Value, depth + 1))));
            case JsonArray a:
                return new JsonArray(a.Select(i => i is null ? null : Inline(root, i, depth + 1)).ToArray());
            default:
                return node.DeepClone();
        }
    }

    private static JsonNode? Resolve(JsonObject root, string reference)
    {
        JsonNode? node = root;
        foreach (var part in reference.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node?[part.Replace("~1", "/").Replace("~0", "~")];
        }
        return node;
    }

    private static void Collect(JsonNode node, List<string> references)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    if (name == "$ref" && value is JsonValue v)
                    {
                        references.Add(v.GetValue<string>());
                    }
                    else if (value is not null)
                    {
                        Collect(value, references);
                    }
                }
                break;
            case JsonArray a:
                foreach (var item in a.OfType<JsonNode>())
                {
                    Collect(item, references);
                }
                break;
        }
    }

    /// <summary>The schemes of the operation's one security requirement, joined with '+' (a call sends them all).</summary>
    private static string? SchemeOf(JsonNode operation) =>
        operation["security"]?.AsArray().Single() is JsonObject requirement ? string.Join("+", requirement.Select(p => p.Key)) : null;

    private static (string, string, string) Scheme(JsonNode scheme) =>
        (scheme["type"]!.GetValue<string>(), scheme["in"]!.GetValue<string>(), scheme["name"]!.GetValue<string>());

    private static JsonObject YamlFile(string path)
    {
        using var reader = File.OpenText(path);
        return Tollgate.Server.OpenApi.YamlJson.Parse(reader)!.AsObject();
    }
}
