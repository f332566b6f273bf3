using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tollgate.Contracts;

/// <summary>
/// The published contracts (<c>contracts/modulate</c>, OpenAPI 3.1 and AsyncAPI 3.0), loaded from YAML so tests can
/// validate what the server sends against the exact schemas it promises. Validates the JSON Schema keywords the
/// contracts use: type (incl. "null"), required, properties, items, oneOf/anyOf, enum, const, minimum/maximum,
/// minItems/maxItems, minLength/maxLength, pattern, format uuid, and local $ref.
/// </summary>
public sealed class ContractDocument
{
    private readonly JsonNode _root;

    private ContractDocument(JsonNode root) => _root = root;

    public static string ContractsDirectory { get; } = FindContracts();

    public static ContractDocument OpenApi(string fileName) => Load(Path.Combine(ContractsDirectory, "openapi", fileName));

    public static ContractDocument AsyncApi(string fileName) => Load(Path.Combine(ContractsDirectory, "asyncapi", fileName));

    public static ContractDocument Load(string path)
    {
        using var reader = File.OpenText(path);
        return new ContractDocument(Tollgate.Server.OpenApi.YamlJson.Parse(reader)!);
    }

    /// <summary>A document given as JSON (Tollgate's own OpenAPI document, say), for the same look-ups and validation.</summary>
    public static ContractDocument FromJson(JsonNode root) => new(root);

    /// <summary>The node at a JSON pointer such as <c>#/components/schemas/TranscriptionResponse</c>.</summary>
    public JsonNode Resolve(string pointer)
    {
        var node = _root;
        foreach (var raw in pointer.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var part = raw.Replace("~1", "/").Replace("~0", "~");
            node = node[part] ?? throw new KeyNotFoundException($"No {pointer} in the contract.");
        }
        return node;
    }

    /// <summary>The 200 response schema of a batch endpoint.</summary>
    public JsonNode ResponseSchema(string path, string method = "post", string status = "200", string mediaType = "application/json") =>
        Resolve($"#/paths/{path.Replace("/", "~1")}/{method}/responses/{status}/content/{mediaType.Replace("/", "~1")}/schema");

    /// <summary>Every violation of <paramref name="schema"/> by <paramref name="instance"/> (empty when valid).</summary>
    public List<string> Validate(JsonNode? instance, JsonNode schema)
    {
        var errors = new List<string>();
        Check(instance, schema, "$", errors, 0);
        return errors;
    }

    public void AssertValid(JsonNode? instance, JsonNode schema)
    {
        var errors = Validate(instance, schema);
        Assert.True(errors.Count == 0, "Contract violations:\n" + string.Join("\n", errors) + "\nin: " + instance?.ToJsonString());
    }

    public void AssertValid(JsonNode? instance, string pointer) => AssertValid(instance, Resolve(pointer));

    private void Check(JsonNode? value, JsonNode schema, string at, List<string> errors, int depth)
    {
        if (depth > 64)
        {
            errors.Add($"{at}: schema nesting too deep");
            return;
        }
        if (schema["$ref"] is { } reference)
        {
            Check(value, Resolve(reference.GetValue<string>()), at, errors, depth + 1);
            return;
        }
        if (schema["oneOf"] is JsonArray oneOf)
        {
            var matching = oneOf.Count(s => Validate(value, s!).Count == 0);
            if (matching != 1)
            {
                errors.Add($"{at}: matches {matching} of the oneOf alternatives (exactly 1 required)");
            }
        }
        if (schema["anyOf"] is JsonArray anyOf && !anyOf.Any(s => Validate(value, s!).Count == 0))
        {
            errors.Add($"{at}: matches none of the anyOf alternatives");
        }
        if (schema["const"] is { } constant && !JsonNode.DeepEquals(constant, value))
        {
            errors.Add($"{at}: must be {constant.ToJsonString()} (was {value?.ToJsonString() ?? "null"})");
        }
        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            errors.Add($"{at}: {value?.ToJsonString() ?? "null"} is not one of {allowed.ToJsonString()}");
        }
        if (schema["type"] is { } type && !HasType(value, type.GetValue<string>()))
        {
            errors.Add($"{at}: must be of type {type} (was {Describe(value)})");
            return;
        }
        switch (value)
        {
            case JsonObject obj:
                foreach (var required in schema["required"]?.AsArray() ?? [])
                {
                    if (!obj.ContainsKey(required!.GetValue<string>()))
                    {
                        errors.Add($"{at}: required property '{required}' is missing");
                    }
                }
                if (schema["properties"] is JsonObject properties)
                {
                    foreach (var (name, propertySchema) in properties)
                    {
                        if (obj.TryGetPropertyValue(name, out var propertyValue))
                        {
                            Check(propertyValue, propertySchema!, $"{at}.{name}", errors, depth + 1);
                        }
                    }
                }
                break;
            case JsonArray array:
                if (schema["minItems"] is { } minItems && array.Count < minItems.GetValue<int>())
                {
                    errors.Add($"{at}: fewer than {minItems} items");
                }
                if (schema["maxItems"] is { } maxItems && array.Count > maxItems.GetValue<int>())
                {
                    errors.Add($"{at}: more than {maxItems} items");
                }
                if (schema["items"] is { } items)
                {
                    for (var i = 0; i < array.Count; i++)
                    {
                        Check(array[i], items, $"{at}[{i}]", errors, depth + 1);
                    }
                }
                break;
            case JsonValue scalar when IsNumber(scalar, out var number):
                if (schema["minimum"] is { } minimum && number < ToDouble(minimum))
                {
                    errors.Add($"{at}: {number} is below the minimum {minimum}");
                }
                if (schema["maximum"] is { } maximum && number > ToDouble(maximum))
                {
                    errors.Add($"{at}: {number} is above the maximum {maximum}");
                }
                break;
            case JsonValue scalar when scalar.TryGetValue<string>(out var text):
                if (schema["minLength"] is { } minLength && text.Length < minLength.GetValue<int>())
                {
                    errors.Add($"{at}: shorter than {minLength}");
                }
                if (schema["maxLength"] is { } maxLength && text.Length > maxLength.GetValue<int>())
                {
                    errors.Add($"{at}: longer than {maxLength}");
                }
                if (schema["pattern"] is { } pattern && !Regex.IsMatch(text, pattern.GetValue<string>()))
                {
                    errors.Add($"{at}: '{text}' does not match {pattern}");
                }
                if (schema["format"]?.GetValue<string>() == "uuid" && !Guid.TryParse(text, out _))
                {
                    errors.Add($"{at}: '{text}' is not a uuid");
                }
                break;
        }
    }

    private static bool HasType(JsonNode? value, string type) => type switch
    {
        "null" => value is null,
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue v && v.TryGetValue<string>(out _),
        "boolean" => value is JsonValue v && v.TryGetValue<bool>(out _),
        "integer" => value is JsonValue v && IsNumber(v, out var n) && Math.Abs(n % 1) < double.Epsilon,
        "number" => value is JsonValue v && IsNumber(v, out _),
        _ => true,
    };

    private static bool IsNumber(JsonValue value, out double number)
    {
        number = 0;
        return value.GetValueKind() == System.Text.Json.JsonValueKind.Number
            && double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
    }

    private static double ToDouble(JsonNode node) => double.Parse(node.ToJsonString(), CultureInfo.InvariantCulture);

    private static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        _ => value.GetValueKind().ToString().ToLowerInvariant(),
    };

    /// <summary>YAML → JSON: plain scalars become numbers/booleans/null where YAML 1.2's core schema says so.</summary>
    private static string FindContracts()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "contracts", "modulate");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("contracts/modulate not found above " + AppContext.BaseDirectory);
    }
}
