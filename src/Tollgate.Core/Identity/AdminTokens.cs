using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Identity;

/// <summary>
/// A stored admin token: never the secret, only its SHA-256 and a short visible prefix (as API keys are kept).
/// </summary>
/// <param name="OrgId">
/// The organization it administers: null for an operator token (every call), an organization id for an organization
/// admin (only that organization's calls).
/// </param>
public sealed record AdminTokenRecord(
    string Id,
    string? Name,
    string Prefix,
    KeyHash Hash,
    string? OrgId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt)
{
    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>Durable admin tokens (the same database as the identity store).</summary>
public interface IAdminTokenStore
{
    Task AddAsync(AdminTokenRecord token, CancellationToken ct = default);

    /// <summary>Every token, revoked ones included, in creation order (then id).</summary>
    Task<IReadOnlyList<AdminTokenRecord>> ListAsync(CancellationToken ct = default);

    Task<AdminTokenRecord?> GetAsync(string tokenId, CancellationToken ct = default);

    Task<AdminTokenRecord?> FindByHashAsync(KeyHash hash, CancellationToken ct = default);

    /// <summary>Marks a token revoked; false when there is no such token. Revoking twice keeps the first time.</summary>
    Task<bool> RevokeAsync(string tokenId, DateTimeOffset at, CancellationToken ct = default);
}

/// <summary>
/// The admin token format: <c>tga_</c> and 40 random base62 characters (≈ 238 bits), so secret scanners can match
/// <c>tga_[0-9A-Za-z]{40}</c>. Only <see cref="Hash"/> and <see cref="VisiblePrefix"/> are stored.
/// </summary>
internal static class AdminTokens
{
    public const string Prefix = "tga_";
    public const int BodyLength = 40;
    public const int VisiblePrefixLength = 12;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Generate() =>
        string.Create(Prefix.Length + BodyLength, 0, static (span, _) =>
        {
            Prefix.CopyTo(span);
            for (var i = Prefix.Length; i < span.Length; i++)
            {
                span[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
            }
        });

    /// <summary>The SHA-256 of the whole token as presented (any token, configured ones too).</summary>
    public static KeyHash Hash(string token) => KeyHash.FromBytes(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string VisiblePrefix(string token) => token.Length <= VisiblePrefixLength ? token : token[..VisiblePrefixLength];
}
