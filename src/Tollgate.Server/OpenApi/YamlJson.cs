using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Server.OpenApi;

/// <summary>
/// A YAML document (the vendored OpenAPI and AsyncAPI contracts) as JSON: plain scalars are typed as YAML 1.2's core
/// schema types them (null, booleans, integers, floats), quoted and block scalars stay strings.
/// </summary>
internal static class YamlJson
{
    public static JsonNode? Parse(TextReader reader)
    {
        var yaml = new YamlStream();
        yaml.Load(reader);
        return ToJson(yaml.Documents[0].RootNode);
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, ToJson(p.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(text);
        }
        switch (text)
        {
            case "null" or "~" or "":
                return null;
            case "true":
                return JsonValue.Create(true);
            case "false":
                return JsonValue.Create(false);
        }
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && !text.StartsWith('.'))
        {
            return JsonValue.Create(real);
        }
        return JsonValue.Create(text);
    }
}
