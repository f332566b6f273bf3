namespace Tollgate.Client.Http;

internal static class BaseAddress
{
    /// <summary>
    /// An absolute http(s) address ending in '/', so relative paths resolve below it
    /// (<c>https://host/gateway</c> + <c>admin/orgs</c> → <c>https://host/gateway/admin/orgs</c>).
    /// </summary>
    public static Uri Normalize(Uri? address, string parameterName)
    {
        if (address is null)
        {
            throw new ArgumentException("A base address is required: set HttpClient.BaseAddress or pass one.", parameterName);
        }
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The base address must be an absolute http or https URL, not '{address}'.", parameterName);
        }
        return address.AbsolutePath.EndsWith('/') ? address : new Uri(address.GetLeftPart(UriPartial.Path) + "/");
    }

    public static Uri Combine(Uri baseAddress, string relative) => new(baseAddress, relative);
}
