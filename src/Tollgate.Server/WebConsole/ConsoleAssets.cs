using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Tollgate.Server.WebConsole;

/// <summary>
/// The console's stylesheet and script, embedded in the server assembly (so any way of starting the server serves
/// them, with no build step and nothing fetched from elsewhere) and served at <c>/console/assets/{name}?v={hash}</c>:
/// the hash in the address lets browsers keep them for a year.
/// </summary>
internal static class ConsoleAssets
{
    private sealed record Asset(byte[] Bytes, string ContentType, string Hash);

    private static readonly FrozenDictionary<string, Asset> All = Load();

    /// <summary>The address of an asset, with its content hash.</summary>
    public static string Url(string name) => $"{ConsolePaths.Root}/assets/{name}?v={All[name].Hash}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(ConsolePaths.Root + "/assets/{name}", (string name, string? v, HttpContext http) =>
        {
            if (!All.TryGetValue(name, out var asset))
            {
                return Results.NotFound();
            }
            var headers = http.Response.GetTypedHeaders();
            headers.CacheControl = v == asset.Hash
                ? new CacheControlHeaderValue { Public = true, MaxAge = TimeSpan.FromDays(365), Extensions = { new NameValueHeaderValue("immutable") } }
                : new CacheControlHeaderValue { NoCache = true };
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Bytes(asset.Bytes, asset.ContentType, entityTag: new EntityTagHeaderValue($"\"{asset.Hash}\""));
        }).ExcludeFromDescription();

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("console/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var name = resource["console/".Length..];
            var type = Path.GetExtension(name) switch
            {
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[name] = new Asset(bytes, type, Convert.ToHexStringLower(SHA256.HashData(bytes))[..12]);
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
