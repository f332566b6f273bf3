using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Tollgate.Identity;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Admin;

/// <summary>
/// Checks the admin bearer token in constant time. The token comes from <c>Tollgate:Admin:Token</c>; when none
/// is configured one is generated on first start, only its SHA-256 is stored, and it is printed once (by the one node
/// whose token was stored, when several start at once on an empty store).
/// </summary>
internal sealed class AdminTokenVerifier(IIdentityStore store, IOptions<TollgateOptions> options)
{
    private const string SettingName = "admin_token_sha256";
    private readonly TaskCompletionSource<byte[]> _expected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Settles the token at start-up. Returns the token when it was generated now (to print once), else null.</summary>
    public async Task<string?> InitializeAsync(CancellationToken ct)
    {
        var configured = options.Value.Admin.Token;
        if (!string.IsNullOrEmpty(configured))
        {
            _expected.TrySetResult(Digest(configured));
            return null;
        }
        var stored = await store.GetSettingAsync(SettingName, ct);
        if (stored is not null)
        {
            _expected.TrySetResult(Convert.FromHexString(stored));
            return null;
        }
        var token = "tga_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', 'A').Replace('/', 'B').TrimEnd('=');
        var digest = Convert.ToHexStringLower(Digest(token));
        // Several nodes starting at once on one empty store each generate a token; the first stored is the token of all
        // of them, and only the node that stored it prints it.
        var settled = await store.AddSettingAsync(SettingName, digest, ct);
        _expected.TrySetResult(Convert.FromHexString(settled));
        return settled == digest ? token : null;
    }

    public async ValueTask<bool> VerifyAsync(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var expected = await _expected.Task;
        return CryptographicOperations.FixedTimeEquals(Digest(authorization[scheme.Length..].Trim()), expected);
    }

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
