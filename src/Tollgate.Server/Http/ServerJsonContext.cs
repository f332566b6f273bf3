using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tollgate.Server.Http;

/// <summary>Source-generated serializers for what the hot path writes.</summary>
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ServerJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The encoder of every JSON body and message the server writes. Bodies are served as application/json, never
    /// inlined into HTML, so text such as <c>'safe'</c> or <c>≥</c> is written as itself rather than as <c>\u0027</c>.
    /// </summary>
    public static JavaScriptEncoder Encoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The serializers above, with <see cref="Encoder"/>.</summary>
    public static ServerJsonContext Wire { get; } = new(new JsonSerializerOptions { Encoder = Encoder });
}
