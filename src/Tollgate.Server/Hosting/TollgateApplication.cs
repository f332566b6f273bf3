using Tollgate.Server.Dubbing;
using Scalar.AspNetCore;
using Tollgate.Server.Admin;
using Tollgate.Server.Admission;
using Tollgate.Server.Models;

namespace Tollgate.Server.Hosting;

/// <summary>The server's composition, shared by <c>Program</c> and the integration tests (which run the same app on a real Kestrel).</summary>
internal static class TollgateApplication
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Beside the server binary: appsettings.json and the default data folder are found wherever it is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddTollgate();
        customize?.Invoke(builder);

        var app = builder.Build();
        app.UseAdmission();
        app.MapModelsApi();
        app.MapAdminApi();
        app.MapDubbingApi();
        app.MapApiReference();
        return app;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and an interactive reference at <c>/docs</c>.</summary>
    public static IEndpointRouteBuilder MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference("/docs", o => o.WithTitle("Tollgate API"));
        app.MapGet("/", () => TypedResults.Redirect("/docs")).ExcludeFromDescription();
        return app;
    }
}
