namespace Tollgate.Server.Admission;

internal static class AdmissionApplicationBuilderExtensions
{
    /// <summary>
    /// WebSockets, routing, then the admission pipeline of DESIGN 3 for every endpoint that declares
    /// <see cref="AdmissionMetadata"/>. Call it before mapping the surfaces.
    /// </summary>
    public static IApplicationBuilder UseAdmission(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetService<AuthenticationStep>() is null)
        {
            throw new InvalidOperationException("UseAdmission needs the admission services: call services.AddAdmission() (AddTollgate does).");
        }
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.UseRouting();
        app.UseMiddleware<AdmissionMiddleware>();
        return app;
    }
}
