namespace Tollgate.Server.Admission;

/// <summary>The id a metered request's charge is recorded under: <c>req_</c> and a version-7 GUID (time-ordered), one allocation.</summary>
internal static class RequestIds
{
    public static string New() => string.Create(36, Guid.CreateVersion7(), static (span, guid) =>
    {
        "req_".CopyTo(span);
        guid.TryFormat(span[4..], out _, "N");
    });
}
