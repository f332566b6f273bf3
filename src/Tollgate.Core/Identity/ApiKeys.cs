using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Tollgate.Identity;

/// <summary>
/// The API key format: a fixed readable prefix, a random base62 body (≥ 128 bits of entropy) and a
/// base62 checksum of the body, so that leaked keys are recognisable by secret scanners and typos
/// fail fast without a store lookup. Only the SHA-256 of the whole key and a short visible prefix are stored.
/// </summary>
/// <example><c>tgk_4fQ9xW2mZ0bLr8TnYc1KpVd7sHe3Ja_2bXq7Z</c></example>
internal static class ApiKeys
{
    /// <summary>Every key starts with this; secret scanners can match <c>tgk_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}</c>.</summary>
    public const string Prefix = "tgk_";

    /// <summary>Random base62 characters: 30 × log2(62) ≈ 178 bits.</summary>
    public const int BodyLength = 30;

    public const int ChecksumLength = 6;

    /// <summary>Total length: prefix + body + '_' + checksum.</summary>
    public const int Length = 4 + BodyLength + 1 + ChecksumLength;

    /// <summary>Characters shown in listings: the prefix and the first 8 body characters.</summary>
    public const int VisiblePrefixLength = 12;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>Generates a new key from the OS's cryptographic random source.</summary>
    public static string Generate()
    {
        Span<char> key = stackalloc char[Length];
        Prefix.AsSpan().CopyTo(key);
        Span<char> body = key.Slice(Prefix.Length, BodyLength);
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }
        key[Prefix.Length + BodyLength] = '_';
        WriteChecksum(body, key[(Prefix.Length + BodyLength + 1)..]);
        return new string(key);
    }

    /// <summary>
    /// Whether <paramref name="key"/> has the shape of a Tollgate key with a correct checksum. Costs no
    /// allocation and no store lookup, so malformed keys are rejected before anything else.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<char> key)
    {
        if (key.Length != Length || !key.StartsWith(Prefix, StringComparison.Ordinal) || key[Prefix.Length + BodyLength] != '_')
        {
            return false;
        }
        var body = key.Slice(Prefix.Length, BodyLength);
        var checksum = key[(Prefix.Length + BodyLength + 1)..];
        if (!IsBase62(body) || !IsBase62(checksum))
        {
            return false;
        }
        Span<char> expected = stackalloc char[ChecksumLength];
        WriteChecksum(body, expected);
        return expected.SequenceEqual(checksum);
    }

    /// <summary>The SHA-256 of the whole key: what the store keeps and looks keys up by.</summary>
    public static KeyHash Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = stackalloc byte[Length * 3];
        var written = System.Text.Encoding.UTF8.GetBytes(key.Length <= Length ? key : key[..Length], utf8);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(utf8[..written], digest);
        return KeyHash.FromBytes(digest);
    }

    /// <summary>The part of a key that may be shown and stored in clear.</summary>
    public static string VisiblePrefix(string key) => key[..VisiblePrefixLength];

    private static bool IsBase62(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private static void WriteChecksum(ReadOnlySpan<char> body, Span<char> destination)
    {
        Span<byte> ascii = stackalloc byte[BodyLength];
        for (var i = 0; i < body.Length; i++)
        {
            ascii[i] = (byte)body[i];
        }
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(ascii, digest);
        var crc = BinaryPrimitives.ReadUInt32BigEndian(digest);
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(crc % 62)];
            crc /= 62;
        }
    }
}

/// <summary>A SHA-256 digest held by value, so looking a key up allocates nothing.</summary>
public readonly record struct KeyHash(ulong A, ulong B, ulong C, ulong D)
{
    public static KeyHash FromBytes(ReadOnlySpan<byte> digest) => new(
        BinaryPrimitives.ReadUInt64BigEndian(digest),
        BinaryPrimitives.ReadUInt64BigEndian(digest[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(digest[16..]),
        BinaryPrimitives.ReadUInt64BigEndian(digest[24..]));

    public static KeyHash FromHex(string hex) => FromBytes(Convert.FromHexString(hex));

    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, A);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], B);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], C);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[24..], D);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Equality without early exit, for comparing a stored hash with a presented one.</summary>
    public bool FixedTimeEquals(KeyHash other) =>
        ((A ^ other.A) | (B ^ other.B) | (C ^ other.C) | (D ^ other.D)) == 0;
}
