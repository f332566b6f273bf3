namespace Tollgate.Server.Admission;

/// <summary>
/// One step of the admission pipeline (DESIGN 3): it admits the request (null) or refuses it with a
/// <see cref="Rejection"/>, and may record what it established on the <see cref="AdmissionFeature"/>. Steps complete
/// synchronously on the in-process stores; an exception means a store the decision needs is unreachable.
/// </summary>
internal interface IAdmissionStep
{
    /// <summary>The span name of this step (<c>tollgate.admission.*</c>).</summary>
    string Name { get; }

    ValueTask<Rejection?> AdmitAsync(HttpContext context, AdmissionFeature feature);
}
