namespace Tollgate.Server.Admission;

internal static class AdmissionApplicationBuilderExtensions
{
    /// <summary>
    /// The admission pipeline of DESIGN 3, in order: authenticate, classify/entitle, rate windows,
    /// concurrency lease, quota; the endpoint then dispatches and meters.
    /// </summary>
    public static IApplicationBuilder UseAdmission(this IApplicationBuilder app)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.UseMiddleware<AuthenticationStep>();
        app.UseMiddleware<EntitlementStep>();
        app.UseMiddleware<RateWindowStep>();
        app.UseMiddleware<ConcurrencyStep>();
        app.UseMiddleware<QuotaStep>();
        return app;
    }
}
