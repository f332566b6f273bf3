using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tollgate.Server.Admission;
using Tollgate.Server.Hosting;

namespace Tollgate.Benchmarks.Load;

/// <summary>
/// The load runs' measure of the admission seam alone: the whole Tollgate server, plus <c>GET /v1/pipeline</c>
/// declared as a Dubbing API endpoint (so it is authenticated, rate-limited with the four default windows and answered
/// with the <c>X-RateLimit-*</c> headers) whose handler writes the same fixed body as <see cref="BareServer"/>'s: the
/// difference between the two is what admission costs per request.
/// </summary>
public static class PipelineServer
{
    public static readonly byte[] Body = """{"ok":true}"""u8.ToArray();

    public static Task Pipeline(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(Body).AsTask();
    }

    public static async Task RunAsync(string[] args)
    {
        var app = TollgateApplication.Build(args);
        app.MapGet("/v1/pipeline", Pipeline).RequireAdmission(new AdmissionMetadata(Surface.Dubbing));
        await app.RunAsync();
    }
}
