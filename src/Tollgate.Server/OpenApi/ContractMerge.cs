using System.Text.Json.Nodes;

namespace Tollgate.Server.OpenApi;

/// <summary>
/// Makes Tollgate's generated OpenAPI document as precise as the published contracts: every operation a contract
/// describes takes the contract's parameters, request body and responses (Tollgate's own answers for statuses the
/// contract does not list — 401, 408, 413, 503 — are kept beside them), with the contract's schemas added to the
/// components (renamed <c>{model}.{Name}</c> where two contracts use one name for different schemas); every streaming
/// model's WebSocket operation takes the query parameters of its AsyncAPI channel and links that document.
/// </summary>
internal static class ContractMerge
{
    private const string ComponentsRef = "#/components/";

    /// <summary>The component kinds a contract's operations refer to (its security schemes are Tollgate's own).</summary>
    private static readonly string[] Kinds = ["schemas", "responses", "parameters", "requestBodies", "headers", "examples"];

    /// <summary>Where the AsyncAPI document of a streaming model is served.</summary>
    public static string AsyncApiPath(string model) => $"/asyncapi/{model}.yaml";

    public static void Apply(JsonObject document, IEnumerable<(string File, JsonObject Contract)> openApi, IReadOnlyDictionary<string, AsyncApiContract> asyncApi)
    {
        var paths = document["paths"]?.AsObject() ?? throw new InvalidOperationException("The generated document has no paths.");
        var components = Child(document, "components");
        var origins = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var (file, contract) in openApi)
        {
            var names = MergeComponents(contract, components, origins);
            foreach (var (path, pathItem) in contract["paths"]!.AsObject())
            {
                foreach (var (method, operation) in pathItem!.AsObject())
                {
                    if (paths[path]?[method] is not JsonObject generated)
                    {
                        throw new InvalidOperationException($"{file} describes {method.ToUpperInvariant()} {path}, which the server does not serve.");
                    }
                    var published = Rewritten(operation!, names).AsObject();
                    MergeOperation(generated, published);
                }
            }
        }
        foreach (var (model, contract) in asyncApi)
        {
            if (paths["/api/" + model]?["get"] is JsonObject socket)
            {
                AddQueryParameters(socket, contract, model);
            }
        }
        RemoveUnreferenced(paths, components);
    }

    /// <summary>Drops the generated components the contracts' operations replaced (the bare <c>IFormFile</c> schema, say).</summary>
    private static void RemoveUnreferenced(JsonObject paths, JsonObject components)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(References(paths));
        while (pending.TryPop(out var reference))
        {
            if (reached.Add(reference) && Resolve(components, reference) is { } component)
            {
                foreach (var next in References(component))
                {
                    pending.Push(next);
                }
            }
        }
        foreach (var kind in Kinds)
        {
            if (components[kind] is JsonObject entries)
            {
                foreach (var name in entries.Select(p => p.Key).Where(n => !reached.Contains(Ref(kind, n))).ToList())
                {
                    entries.Remove(name);
                }
            }
        }
    }

    /// <summary>The contract's parameters, request body and responses; Tollgate's tags, id and security stay.</summary>
    private static void MergeOperation(JsonObject generated, JsonObject published)
    {
        foreach (var field in (string[])["summary", "description", "parameters", "requestBody"])
        {
            if (published[field] is { } value)
            {
                generated[field] = value.DeepClone();
            }
        }
        var responses = published["responses"]!.DeepClone().AsObject();
        if (generated["responses"] is JsonObject own)
        {
            foreach (var (status, response) in own)
            {
                if (!responses.ContainsKey(status))
                {
                    responses[status] = response!.DeepClone();
                }
            }
        }
        generated["responses"] = Sorted(responses);
    }

    private static void AddQueryParameters(JsonObject operation, AsyncApiContract contract, string model)
    {
        var required = contract.Query["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        var parameters = new JsonArray();
        foreach (var (name, schema) in contract.Query["properties"]!.AsObject())
        {
            var copy = schema!.DeepClone().AsObject();
            var description = copy["description"]?.GetValue<string>();
            copy.Remove("description");
            var parameter = new JsonObject { ["name"] = name, ["in"] = "query", ["required"] = required.Contains(name) };
            if (description is not null)
            {
                parameter["description"] = description.Trim();
            }
            parameter["schema"] = copy;
            parameters.Add(parameter);
        }
        operation["parameters"] = parameters;
        operation["description"] =
            $"Open a WebSocket (ws:// or wss://) to this path with the query parameters below; audio goes in as binary frames, " +
            $"results come back as JSON messages. The messages, their order and the close codes are in the AsyncAPI " +
            $"document of this channel: [{AsyncApiPath(model)}]({AsyncApiPath(model)}).";
    }

    /// <summary>
    /// Adds the contract's components (schemas, shared responses, parameters, …) to <paramref name="components"/>; the
    /// reference each got, by its reference in the contract. A component keeps its name when that name is free or
    /// already holds the same component (through the same names); otherwise it is named <c>{scope}.{Name}</c> after
    /// the contract's first path (<c>velma-2-stt-batch.ErrorResponse</c>).
    /// </summary>
    private static Dictionary<string, string> MergeComponents(JsonObject contract, JsonObject components, Dictionary<string, JsonNode> origins)
    {
        var own = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var kind in Kinds)
        {
            foreach (var (name, component) in contract["components"]?[kind]?.AsObject() ?? [])
            {
                own[Ref(kind, name)] = component!;
            }
        }
        var scope = contract["paths"]!.AsObject().First().Key.TrimStart('/').Split('/')[^1];
        // Shared only when the same text was merged under that name before, and every component it refers to is shared too.
        var shared = own.Where(p => origins.TryGetValue(p.Key, out var seen) ? JsonNode.DeepEquals(seen, p.Value) : Resolve(components, p.Key) is null)
            .Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        bool changed;
        do
        {
            changed = false;
            foreach (var reference in shared.ToList())
            {
                if (References(own[reference]).Any(r => own.ContainsKey(r) && !shared.Contains(r)))
                {
                    shared.Remove(reference);
                    changed = true;
                }
            }
        }
        while (changed);
        var names = own.Keys.ToDictionary(r => r, r => shared.Contains(r) ? r : Renamed(r, scope), StringComparer.Ordinal);
        foreach (var (reference, component) in own)
        {
            var target = names[reference];
            if (Resolve(components, target) is null)
            {
                var (kind, name) = Split(target);
                Child(components, kind)[name] = Rewritten(component, names);
                origins[target] = component.DeepClone();
            }
        }
        return names;
    }

    private static string Ref(string kind, string name) => ComponentsRef + kind + "/" + name;

    private static (string Kind, string Name) Split(string reference)
    {
        var rest = reference[ComponentsRef.Length..];
        var slash = rest.IndexOf('/');
        return (rest[..slash], rest[(slash + 1)..]);
    }

    private static string Renamed(string reference, string scope)
    {
        var (kind, name) = Split(reference);
        return Ref(kind, scope + "." + name);
    }

    private static JsonNode? Resolve(JsonObject components, string reference)
    {
        var (kind, name) = Split(reference);
        return components[kind]?[name];
    }

    private static IEnumerable<string> References(JsonNode node) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Key == "$ref" && p.Value?.GetValue<string>() is { } r && r.StartsWith(ComponentsRef, StringComparison.Ordinal)
            ? [r]
            : p.Value is null ? [] : References(p.Value)),
        JsonArray a => a.SelectMany(i => i is null ? [] : References(i)),
        _ => [],
    };

    /// <summary>A copy of <paramref name="node"/> whose component references use the merged names.</summary>
    private static JsonNode Rewritten(JsonNode node, IReadOnlyDictionary<string, string> names)
    {
        var copy = node.DeepClone();
        Rewrite(copy, names);
        return copy;
    }

    private static void Rewrite(JsonNode node, IReadOnlyDictionary<string, string> names)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"]?.GetValue<string>() is { } r && names.TryGetValue(r, out var renamed))
                {
                    o["$ref"] = renamed;
                }
                foreach (var (_, value) in o.ToList())
                {
                    if (value is not null)
                    {
                        Rewrite(value, names);
                    }
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    if (item is not null)
                    {
                        Rewrite(item, names);
                    }
                }
                break;
        }
    }

    private static JsonObject Child(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject existing)
        {
            return existing;
        }
        var created = new JsonObject();
        parent[name] = created;
        return created;
    }

    private static JsonObject Sorted(JsonObject responses) =>
        new(responses.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
}
