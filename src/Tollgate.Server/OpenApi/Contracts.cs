using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Tollgate.Server.OpenApi;

/// <summary>
/// The wire contracts Tollgate serves, as published (<c>contracts/modulate</c>, embedded in the server): the Models
/// API's batch operations (OpenAPI) and its streaming channels (AsyncAPI, one document per channel).
/// </summary>
internal static class Contracts
{
    private const string Prefix = "contracts/";

    /// <summary>Every embedded contract: its file name (<c>openapi/stt-batch-openapi.yml</c>) and its text.</summary>
    private static readonly FrozenDictionary<string, string> Texts = LoadTexts();

    /// <summary>The OpenAPI documents, parsed, in file-name order.</summary>
    public static IReadOnlyList<(string File, JsonObject Document)> OpenApi { get; } =
        [.. Texts.Where(t => t.Key.StartsWith("openapi/", StringComparison.Ordinal)).OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => (t.Key, Parse(t.Value)))];

    /// <summary>The AsyncAPI document of each streaming model, keyed by the model (its channel's address <c>/api/{model}</c>).</summary>
    public static FrozenDictionary<string, AsyncApiContract> AsyncApiByModel { get; } = IndexAsyncApi();

    private static FrozenDictionary<string, string> LoadTexts()
    {
        var assembly = typeof(Contracts).Assembly;
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            texts[name[Prefix.Length..]] = reader.ReadToEnd();
        }
        if (texts.Count == 0)
        {
            throw new InvalidOperationException("The server was built without its embedded contracts (contracts/modulate).");
        }
        return texts.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static JsonObject Parse(string text) => YamlJson.Parse(new StringReader(text))!.AsObject();

    private static FrozenDictionary<string, AsyncApiContract> IndexAsyncApi()
    {
        var byModel = new Dictionary<string, AsyncApiContract>(StringComparer.Ordinal);
        foreach (var (file, text) in Texts.Where(t => t.Key.StartsWith("asyncapi/", StringComparison.Ordinal)))
        {
            var document = Parse(text);
            foreach (var (_, channel) in document["channels"]!.AsObject())
            {
                // The streaming channel is the one with WebSocket bindings (a document may also describe list-presets).
                if (channel!["bindings"]?["ws"]?["query"] is JsonObject query && channel["address"]?.GetValue<string>() is { } address)
                {
                    byModel[address[(address.LastIndexOf('/') + 1)..]] = new AsyncApiContract(file, text, query);
                }
            }
        }
        return byModel.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>One streaming channel's AsyncAPI document: its file, its YAML as published, and its query parameters' schema.</summary>
internal sealed record AsyncApiContract(string File, string Yaml, JsonObject Query);
