using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admin;

/// <summary>
/// Reads an Admin API request body strictly, and says what is wrong with it in the caller's terms: a body that is not
/// JSON (<c>Content-Type</c>) is 415, one over <see cref="MaxBytes"/> is 413 (read no further than that), one that does
/// not parse is 400 with the line and byte; then the fields are checked against what the call takes — a field the call
/// does not take, a field given twice, or a value of the wrong JSON type (<c>"5"</c> where a number goes) is 400, every
/// problem listed by its path (<c>models.velma-2-stt-batch.concurrency: expected a whole number …</c>). Nothing of the
/// server's own types or messages reaches the answer. Values that are well typed but out of range are the endpoint's
/// 422, as before.
/// </summary>
internal static class AdminBody
{
    /// <summary>The largest admin body read: a key entitled to every model takes about 2 KB.</summary>
    public const int MaxBytes = 64 * 1024;

    private static readonly JsonDocumentOptions Parsing = new() { MaxDepth = 16 };

    /// <summary>Reads the body and lets <paramref name="parse"/> take its fields; the refusal to answer with otherwise.</summary>
    public static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request, Func<JsonObjectReader, T> parse, CancellationToken ct)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            var given = string.IsNullOrEmpty(request.ContentType) ? "no Content-Type" : $"Content-Type '{request.ContentType}'";
            return (null, ApiError.Result(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
                $"The Admin API takes a JSON body, sent with Content-Type: application/json; this request has {given}."));
        }
        var bytes = await ReadBoundedAsync(request, ct);
        if (bytes is null)
        {
            // The rest is never read: close the connection rather than drain it.
            request.HttpContext.Response.Headers.Connection = "close";
            return (null, ApiError.Result(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
                $"The body is larger than the Admin API's limit of {MaxBytes / 1024} KB."));
        }
        try
        {
            using var document = JsonDocument.Parse(bytes.Value, Parsing);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, ApiError.Result(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson,
                    $"The body must be a JSON object ({{…}}), not {JsonObjectReader.Describe(document.RootElement)}."));
            }
            var reader = new JsonObjectReader(document.RootElement, "");
            var body = parse(reader);
            return reader.Errors.Count > 0
                ? (null, ApiError.Result(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, string.Join(" ", reader.Errors)))
                : (body, null);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line && ex.BytePositionInLine is { } position
                ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {position + 1}")
                : "";
            return (null, ApiError.Result(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson,
                $"The body is not valid JSON{where}. Send one JSON object, e.g. {{\"name\": \"Acme\"}}."));
        }
    }

    /// <summary>The whole body, or null as soon as it passes <see cref="MaxBytes"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes)
        {
            return null;
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxBytes;
        }
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, MaxBytes) + 1);
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.GetMemory(4096), ct);
                if (read == 0)
                {
                    return buffer.WrittenMemory;
                }
                buffer.Advance(read);
                if (buffer.WrittenCount > MaxBytes)
                {
                    return null;
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }
}

/// <summary>
/// One JSON object of a request body, read field by field against what the call takes. Every problem is collected
/// (with its path) rather than thrown, so one answer names them all.
/// </summary>
internal sealed class JsonObjectReader
{
    private readonly JsonElement _object;
    private readonly string _path;
    private readonly List<string> _errors;

    public JsonObjectReader(JsonElement obj, string path)
        : this(obj, path, [])
    {
    }

    private JsonObjectReader(JsonElement obj, string path, List<string> errors)
    {
        _object = obj;
        _path = path;
        _errors = errors;
    }

    public IReadOnlyList<string> Errors => _errors;

    /// <summary>Refuses fields other than <paramref name="known"/>, and any field given twice.</summary>
    public JsonObjectReader Takes(params string[] known)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in _object.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                _errors.Add($"{Path(property.Name)}: given more than once; give each field once.");
            }
            else if (Array.IndexOf(known, property.Name) < 0)
            {
                _errors.Add($"{Path(property.Name)}: not a field of this call (it takes {string.Join(", ", known)}).");
            }
        }
        return this;
    }

    /// <summary>A text field; null when absent or null.</summary>
    public string? Text(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            Expected(name, "text in quotes, e.g. \"Acme\"", value);
            return null;
        }
        return value.GetString();
    }

    /// <summary>A whole-number field (no fraction, no quotes); null when absent, null or wrong.</summary>
    public int? WholeNumber(string name, string example)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            return number;
        }
        Expected(name, $"a whole number without quotes, e.g. {example}", value);
        return null;
    }

    /// <summary>A number field (no quotes); null when absent, null or wrong.</summary>
    public double? Number(string name, string example)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number))
        {
            return number;
        }
        Expected(name, $"a number without quotes, e.g. {example}", value);
        return null;
    }

    /// <summary>
    /// An object field whose members are read by <paramref name="member"/> (null for a member whose value is JSON null);
    /// null when the field is absent, null or not an object. A member given twice is refused.
    /// </summary>
    public Dictionary<string, TValue?>? Map<TValue>(string name, string example, string memberExample, Func<JsonObjectReader, TValue> member)
        where TValue : class
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            Expected(name, $"an object, e.g. {example}", value);
            return null;
        }
        var map = new Dictionary<string, TValue?>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var path = Path(name) + "." + property.Name;
            if (map.ContainsKey(property.Name))
            {
                _errors.Add($"{path}: given more than once; give each once.");
                continue;
            }
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Null:
                    map[property.Name] = null;
                    break;
                case JsonValueKind.Object:
                    map[property.Name] = member(new JsonObjectReader(property.Value, path, _errors));
                    break;
                default:
                    _errors.Add($"{path}: expected an object, e.g. {memberExample}; got {Describe(property.Value)}.");
                    map[property.Name] = null;
                    break;
            }
        }
        return map;
    }

    private bool TryGet(string name, out JsonElement value) =>
        _object.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private void Expected(string name, string expected, JsonElement got) =>
        _errors.Add($"{Path(name)}: expected {expected}; got {Describe(got)}.");

    private string Path(string name) => _path.Length == 0 ? name : _path + "." + name;

    /// <summary>What a JSON value is, in the caller's terms, with a short excerpt of it.</summary>
    internal static string Describe(JsonElement value)
    {
        var raw = value.GetRawText();
        var excerpt = raw.Length > 24 ? raw[..21] + "…" : raw;
        return value.ValueKind switch
        {
            JsonValueKind.String => $"text in quotes ({excerpt})",
            JsonValueKind.Number => $"the number {excerpt}",
            JsonValueKind.True or JsonValueKind.False => $"{excerpt} (true/false)",
            JsonValueKind.Array => "a list ([…])",
            JsonValueKind.Object => "an object ({…})",
            _ => "null",
        };
    }
}
