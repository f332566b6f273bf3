using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Tollgate.Dubbing;

namespace Tollgate.Server.Dubbing;

/// <summary>Why a source link was refused or could not be fetched: the HTTP status and code the caller gets.</summary>
internal sealed class SourceFetchException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}

/// <summary>
/// Fetches a dub's <c>sourceUrl</c> without becoming a way into the server's network: http(s) only; only from hosts on
/// <c>Tollgate:Dubbing:AllowedSourceHosts</c> (every redirect is checked again); and never to loopback, private,
/// link-local or otherwise internal addresses unless <c>AllowPrivateSourceAddresses</c> — checked on the address
/// actually connected to (<see cref="SocketsHttpHandler.ConnectCallback"/>), so neither DNS tricks nor redirects reach
/// them, and with no proxy in between. The body streams to a file and is cut at 100 MB.
/// </summary>
internal sealed class SourceFetcher : IDisposable
{
    private const int MaxRedirects = 5;
    private static readonly TimeSpan TotalTimeout = TimeSpan.FromMinutes(10);

    private readonly DubbingOptions _options;
    private readonly HttpClient _http;

    public SourceFetcher(IOptions<DubbingOptions> options)
    {
        _options = options.Value;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Tollgate-Dubbing/1.0");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Downloads <paramref name="url"/> to <paramref name="path"/> (created; deleted on failure); returns the file name the link ends with.</summary>
    public async Task<string?> FetchAsync(string url, string path, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TotalTimeout);
        try
        {
            return await FetchCoreAsync(Check(url), path, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            File.Delete(path);
            throw new SourceFetchException(StatusCodes.Status422UnprocessableEntity, "source_unreachable",
                $"The source link did not deliver the file within {TotalTimeout.TotalMinutes:0} minutes.");
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    private async Task<string?> FetchCoreAsync(Uri uri, string path, CancellationToken ct)
    {
        for (var redirects = 0; ; redirects++)
        {
            using var response = await SendAsync(uri, ct);
            var status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308)
            {
                if (response.Headers.Location is not { } location)
                {
                    throw Unreachable($"The source link answered HTTP {status} without a Location.");
                }
                if (redirects == MaxRedirects)
                {
                    throw Unreachable($"The source link redirects more than {MaxRedirects} times.");
                }
                uri = Check(new Uri(uri, location).AbsoluteUri);
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw Unreachable($"The source link answered HTTP {status}.");
            }
            if (response.Content.Headers.ContentLength > DubbingOptions.MaxInputBytes)
            {
                throw TooLarge();
            }
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                long total = 0;
                int read;
                while ((read = await ReadAsync(body, buffer, ct)) > 0)
                {
                    total += read;
                    if (total > DubbingOptions.MaxInputBytes)
                    {
                        throw TooLarge();
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            var name = Path.GetFileName(Uri.UnescapeDataString(uri.AbsolutePath));
            return string.IsNullOrWhiteSpace(name) ? null : name;
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri uri, CancellationToken ct)
    {
        try
        {
            return await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException ex) when (FindRefusal(ex) is { } refused)
        {
            throw refused;
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable($"The source link could not be fetched: {ex.Message}");
        }
    }

    private static async Task<int> ReadAsync(Stream body, byte[] buffer, CancellationToken ct)
    {
        try
        {
            return await body.ReadAsync(buffer, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw Unreachable($"The source link broke off: {ex.Message}");
        }
    }

    private static SourceFetchException? FindRefusal(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is SourceFetchException refused)
            {
                return refused;
            }
        }
        return null;
    }

    /// <summary>The link's form and host, checked before anything is sent (and again for every redirect).</summary>
    private Uri Check(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new SourceFetchException(StatusCodes.Status422UnprocessableEntity, "invalid_source_url",
                "sourceUrl must be an absolute http:// or https:// URL without credentials in it.");
        }
        if (!_options.IsAllowedHost(uri.IdnHost))
        {
            throw new SourceFetchException(StatusCodes.Status422UnprocessableEntity, "source_host_not_allowed",
                $"Links to {uri.IdnHost} are not allowed on this server (Tollgate:Dubbing:AllowedSourceHosts); upload the file instead.");
        }
        return uri;
    }

    /// <summary>Resolves the host and connects only to an address that may be reached; this is the check that counts.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        }
        catch (SocketException ex)
        {
            throw Unreachable($"{host} could not be resolved: {ex.Message}");
        }
        var allowed = _options.AllowPrivateSourceAddresses ? addresses : addresses.Where(IsPublic).ToArray();
        if (allowed.Length == 0)
        {
            throw new SourceFetchException(StatusCodes.Status422UnprocessableEntity, "source_address_not_allowed",
                $"{host} resolves to a loopback, private, link-local or otherwise internal address; links there are refused.");
        }
        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                if (!_options.AllowPrivateSourceAddresses && socket.RemoteEndPoint is IPEndPoint connected && !IsPublic(connected.Address))
                {
                    throw new SourceFetchException(StatusCodes.Status422UnprocessableEntity, "source_address_not_allowed",
                        $"{host} connected to an internal address; links there are refused.");
                }
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw Unreachable($"{host} could not be reached: {last?.Message}");
    }

    /// <summary>
    /// Whether an address is on the public internet: not unspecified, loopback, private (RFC 1918, ULA), shared
    /// (100.64/10), link-local, documentation, benchmarking, multicast or reserved — including IPv4 addresses embedded
    /// in IPv6 (mapped, compatible, NAT64, 6to4).
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            if (address.IsIPv4MappedToIPv6)
            {
                return IsPublic(address.MapToIPv4());
            }
            if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
            {
                // :: and ::1, and the deprecated IPv4-compatible ::a.b.c.d.
                return b[12] != 0 && IsPublic(new IPAddress(b.AsSpan(12, 4)));
            }
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B)
            {
                return IsPublic(new IPAddress(b.AsSpan(12, 4))); // NAT64 64:ff9b::/96
            }
            if (b[0] == 0x20 && b[1] == 0x02)
            {
                return IsPublic(new IPAddress(b.AsSpan(2, 4))); // 6to4 2002::/16
            }
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) // documentation 2001:db8::/32
                || (b[0] & 0xE0) != 0x20); // only global unicast 2000::/3 is public
        }
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }
        var v4 = address.GetAddressBytes();
        return v4[0] switch
        {
            0 or 10 or 127 => false,
            100 => (v4[1] & 0xC0) != 64,
            169 => v4[1] != 254,
            172 => (v4[1] & 0xF0) != 16,
            192 => !(v4[1] == 168 || (v4[1] == 0 && v4[2] is 0 or 2) || (v4[1] == 88 && v4[2] == 99)),
            198 => !((v4[1] & 0xFE) == 18 || (v4[1] == 51 && v4[2] == 100)),
            203 => !(v4[1] == 0 && v4[2] == 113),
            >= 224 => false,
            _ => true,
        };
    }

    private static SourceFetchException Unreachable(string message) =>
        new(StatusCodes.Status422UnprocessableEntity, "source_unreachable", message);

    private static SourceFetchException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The file behind the source link is larger than the 100 MB limit.");
}
