using Tollgate.Models;
using Tollgate.Backends.Reference;
using Tollgate.Server.Admission;
using Tollgate.Server.Hosting;
using Tollgate.Server.Http;

namespace Tollgate.Server.Models;

/// <summary>The Models API of the contracts: 11 batch endpoints, 7 streaming channels and the list-presets endpoints.</summary>
internal static class ModelsApi
{
    public static IServiceCollection AddModelsApi(this IServiceCollection services)
    {
        services.AddValidatedOptions<UploadOptions>(UploadOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<BatchEndpoint>();
        services.AddValidatedOptions<StreamOptions>(StreamOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<StreamSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamSupervisor>());
        services.AddSingleton<StreamingEndpoint>();
        return services;
    }

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Models");
        foreach (var model in ModelCatalog.All)
        {
            if (model.Kind == ModelKind.Batch)
            {
                api.MapPost("/" + model.Name, (HttpContext context, BatchEndpoint endpoint) => endpoint.HandleAsync(context, model))
                    .WithName(model.Name)
                    .WithSummary($"{model.Name}: upload an audio file (multipart field upload_file; {string.Join(", ", model.Extensions)}; at most 100 MB).")
                    .Accepts<IFormFile>("multipart/form-data")
                    .Produces(StatusCodes.Status200OK, contentType: "application/json")
                    .Produces<ErrorBody>(StatusCodes.Status400BadRequest)
                    .Produces<ErrorBody>(StatusCodes.Status401Unauthorized)
                    .Produces<ErrorBody>(StatusCodes.Status403Forbidden)
                    .Produces<ErrorBody>(StatusCodes.Status408RequestTimeout)
                    .Produces<ErrorBody>(StatusCodes.Status413PayloadTooLarge)
                    .Produces<ErrorBody>(StatusCodes.Status422UnprocessableEntity)
                    .Produces<ErrorBody>(StatusCodes.Status429TooManyRequests)
                    .DisableAntiforgery()
                    .RequireAdmission(new AdmissionMetadata(Surface.Models, model, metered: true, maxBodyBytes: BatchUpload.MaxRequestBytes));
            }
            else
            {
                api.MapGet("/" + model.Name, (HttpContext context, StreamingEndpoint endpoint) => endpoint.HandleAsync(context, model))
                    .WithName(model.Name)
                    .WithSummary($"{model.Name}: WebSocket channel (?api_key=...); see the AsyncAPI contract.")
                    .Produces(StatusCodes.Status101SwitchingProtocols)
                    .Produces<ErrorBody>(StatusCodes.Status400BadRequest)
                    .RequireAdmission(new AdmissionMetadata(Surface.Models, model, metered: true));
            }
            api.MapWrongKind(model);
            if (model.HasPresets)
            {
                api.MapGet($"/{model.Name}/list-presets", () => TypedResults.Json(BehaviorPresets.ListResponse()))
                    .WithName(model.Name + "-list-presets")
                    .WithSummary("List the behavior presets usable as preset:<identifier> in a BatchConfig. Consumes no usage.")
                    .Produces(StatusCodes.Status200OK, contentType: "application/json")
                    .Produces<ErrorBody>(StatusCodes.Status401Unauthorized)
                    .Produces<ErrorBody>(StatusCodes.Status403Forbidden)
                    .RequireAdmission(new AdmissionMetadata(Surface.Models, model));
            }
        }
        return app;
    }
}
