using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>Step 2: the key must be entitled to the endpoint's model; its limits for that model judge the request.</summary>
internal sealed class EntitlementStep : IAdmissionStep
{
    public string Name => "tollgate.admission.entitle";

    public ValueTask<Rejection?> AdmitAsync(HttpContext context, AdmissionFeature feature)
    {
        if (feature.Model is not { } model)
        {
            return default;
        }
        if (feature.Principal!.TryGetLimits(model.Name, out var limits))
        {
            feature.Limits = limits;
            return default;
        }
        return new ValueTask<Rejection?>(new Rejection(StatusCodes.Status403Forbidden, CloseCodes.Forbidden, ErrorCodes.ModelNotPermitted,
            $"This request is not permitted: the API key is not entitled to {model.Name}."));
    }
}
