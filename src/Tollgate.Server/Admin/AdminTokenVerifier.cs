using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Tollgate.Identity;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Admin;

/// <summary>Who an admin call is: an operator (every call) or the admin of one organization (only its calls).</summary>
/// <param name="OrgId">The organization an organization admin administers; null for an operator.</param>
/// <param name="TokenId">The admin token record's id; null for the configured or first-start token.</param>
internal sealed record AdminCaller(string? OrgId, string? TokenId)
{
    public static AdminCaller Operator { get; } = new(null, null);

    public bool IsOperator => OrgId is null;
}

/// <summary>
/// Checks the admin bearer token. The operator token comes from <c>Tollgate:Admin:Token</c>; when none is configured
/// one is generated on first start, only its SHA-256 is stored, and it is printed once (by the one node whose token was
/// stored, when several start at once on an empty store); it is compared in constant time and always works (it is how
/// admin access is recovered). Any other token is looked up by its SHA-256 among the admin token records
/// (<see cref="IAdminTokenStore"/>) on every call, without a cache, so a revocation holds on every node at once.
/// </summary>
internal sealed class AdminTokenVerifier(IIdentityStore store, IAdminTokenStore tokens, IOptions<TollgateOptions> options)
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

    /// <summary>The caller the bearer token of <paramref name="authorization"/> stands for; null when it is missing, unknown or revoked.</summary>
    public async ValueTask<AdminCaller?> VerifyAsync(string? authorization, CancellationToken ct = default)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var presented = authorization[scheme.Length..].Trim();
        return presented.Length == 0 ? null : await VerifyDigestAsync(Digest(presented), ct);
    }

    /// <summary>
    /// The caller a token's SHA-256 (<see cref="Digest"/>) stands for; null when unknown or revoked. The console keeps only
    /// the digest in its session and asks again on every request, so a revoked token or a changed operator token ends the session.
    /// </summary>
    public async ValueTask<AdminCaller?> VerifyDigestAsync(byte[] digest, CancellationToken ct = default)
    {
        var expected = await _expected.Task;
        if (CryptographicOperations.FixedTimeEquals(digest, expected))
        {
            return AdminCaller.Operator;
        }
        var hash = KeyHash.FromBytes(digest);
        var record = await tokens.FindByHashAsync(hash, ct);
        return record is { IsRevoked: false } && record.Hash.FixedTimeEquals(hash) ? new AdminCaller(record.OrgId, record.Id) : null;
    }

    public static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
