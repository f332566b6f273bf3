using Microsoft.AspNetCore.Http.Features;

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
        // Only a request that can be upgraded (HTTP/1.1 Upgrade, HTTP/2 extended CONNECT) meets the WebSocket middleware:
        // it would otherwise make its handshake feature for every request (~70 B), only to find no WebSocket asked for.
        app.UseWhen(static context => context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
                || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true },
            static branch => branch.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) }));
        app.UseRouting();
        app.UseMiddleware<AdmissionMiddleware>();
        return app;
    }
}
