using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Tollgate.Observability;
using Tollgate.Server.Admission;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Observability;

/// <summary>
/// Export of the server's metrics and spans through OpenTelemetry: the <c>Tollgate</c> meter and ASP.NET Core's own
/// (HTTP server, Kestrel, routing) as a Prometheus scrape at <see cref="PrometheusPath"/> when
/// <c>Tollgate:Metrics:Prometheus</c> is true (off by default), and metrics plus the admission and request spans over
/// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the standard <c>OTEL_*</c> variables configure it). With
/// neither, nothing subscribes and the instruments cost nothing.
/// </summary>
internal static class TelemetryEndpoints
{
    public const string PrometheusPath = "/metrics";
    public const string PrometheusSetting = "Tollgate:Metrics:Prometheus";
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The meters exported besides <see cref="TollgateMetrics.MeterName"/>: ASP.NET Core's built-in ones.</summary>
    public static readonly string[] AspNetCoreMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.HealthChecks",
    ];

    public static WebApplicationBuilder AddTollgateTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var prometheus = false;
        if (configuration[PrometheusSetting] is { Length: > 0 } text && !bool.TryParse(text, out prometheus))
        {
            builder.Services.AddSingleton(new StartupProblem($"{PrometheusSetting} must be true or false (was '{text}')."));
        }
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);
        builder.Services.AddSingleton(new TelemetrySettings(prometheus, otlp));
        if (!prometheus && !otlp)
        {
            return builder;
        }
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName: "tollgate"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TollgateMetrics.MeterName).AddMeter(AspNetCoreMeters);
                if (prometheus)
                {
                    metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                }
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(AdmissionMiddleware.Activities.Name, "Microsoft.AspNetCore")
                .AddProcessor(new KeySafeSpanProcessor())
                .AddOtlpExporter());
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapTelemetryEndpoints(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetRequiredService<TelemetrySettings>().Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(PrometheusPath).ExcludeFromDescription();
        }
        return app;
    }
}

/// <summary>Which exporters this start enabled.</summary>
internal sealed record TelemetrySettings(bool Prometheus, bool Otlp);

/// <summary>Spans leave with no credential: a query string's <c>api_key</c> is cut from every URL tag before export.</summary>
internal sealed class KeySafeSpanProcessor : BaseProcessor<Activity>
{
    private static readonly string[] UrlTags = ["url.query", "url.full", "http.url", "http.target"];

    public override void OnEnd(Activity data)
    {
        foreach (var tag in UrlTags)
        {
            if (data.GetTagItem(tag) is string { Length: > 0 } value)
            {
                data.SetTag(tag, RequestLogMiddleware.WithoutSecrets(value, isQuery: tag == "url.query"));
            }
        }
    }
}
