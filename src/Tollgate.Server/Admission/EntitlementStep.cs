using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>Step 2: the key must be entitled to the model it calls.</summary>
internal sealed class EntitlementStep(RequestDelegate next)
{
    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.Get<AdmissionFeature>();
        if (feature?.Model is not { } model || feature.Principal is not { } principal)
        {
            return next(context);
        }
        if (principal.TryGetLimits(model.Name, out var limits))
        {
            feature.Limits = limits;
            return next(context);
        }
        return new Rejection(StatusCodes.Status403Forbidden, CloseCodes.Forbidden, ErrorCodes.ModelNotPermitted,
            $"This request is not permitted: the API key is not entitled to {model.Name}.").WriteAsync(context);
    }
}
