using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tollgate.Server.Hosting;

/// <summary>
/// <c>GET /healthz</c>: the process is up and serving (runs no check). <c>GET /readyz</c>: every store this node needs
/// answers — each store project registers its own ASP.NET Core health check tagged <see cref="ReadinessTag"/> (SQLite
/// today; PostgreSQL and Redis when configured), so a new store needs no change here. Both are unauthenticated, pass no
/// admission step (no key read, no rate window, no usage) and are never cached; the answer is 200 or 503 with a JSON
/// body naming each check and what it found.
/// </summary>
internal static class HealthEndpoints
{
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";

    /// <summary>The tag of the checks <see cref="ReadinessPath"/> runs.</summary>
    public const string ReadinessTag = "ready";

    public static IServiceCollection AddTollgateHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks();
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(LivenessPath, new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = WriteAsync })
            .ExcludeFromDescription();
        app.MapHealthChecks(ReadinessPath, new HealthCheckOptions { Predicate = static check => check.Tags.Contains(ReadinessTag), ResponseWriter = WriteAsync })
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>Whether <paramref name="path"/> is one of the probes (the request log writes them at Debug, not per probe at Information).</summary>
    public static bool IsProbe(PathString path) =>
        path.Equals(LivenessPath, StringComparison.OrdinalIgnoreCase) || path.Equals(ReadinessPath, StringComparison.OrdinalIgnoreCase);

    private static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", Status(report.Status));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", Status(entry.Status));
            if (entry.Description is { } description)
            {
                json.WriteString("description", description);
            }
            json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 1));
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static string Status(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
